namespace TsNet.Tool.Commands;

/// <summary>The validated options of <c>tsnet up</c>: exactly one of <see cref="ConfigFile"/> and <see cref="Control"/> is set.</summary>
internal sealed record UpSettings(string? ConfigFile, int? HttpPort, string? Www, IReadOnlyList<int> EchoPorts, IReadOnlyList<int> UdpEchoPorts, bool Verbose)
{
    /// <summary>Loopback address and port of the SOCKS5 proxy (<c>--socks5</c>), or null.</summary>
    public System.Net.IPEndPoint? Socks5 { get; init; }

    /// <summary>The proxy's password (<c>--socks5-password</c>); null generates one.</summary>
    public string? Socks5Password { get; init; }

    /// <summary>Host → tailnet (<c>--forward</c>) and tailnet → host (<c>--publish</c>) mappings, in command-line order.</summary>
    public IReadOnlyList<PortMapping> PortMappings { get; init; } = [];

    /// <summary>The local API socket path (<c>--socket</c>), or null for the default.</summary>
    public string? Socket { get; init; }

    /// <summary>Control mode (<c>--login-server</c> and its flags); null for a node from <see cref="ConfigFile"/>.</summary>
    public UpControlSettings? Control { get; init; }
}
