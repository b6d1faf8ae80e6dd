namespace TsNet.Tool.Commands;

/// <summary>The validated options of <c>tsnet up</c>.</summary>
internal sealed record UpSettings(string ConfigFile, int? HttpPort, string? Www, IReadOnlyList<int> EchoPorts, IReadOnlyList<int> UdpEchoPorts, bool Verbose)
{
    /// <summary>Loopback address and port of the SOCKS5 proxy (<c>--socks5</c>), or null.</summary>
    public System.Net.IPEndPoint? Socks5 { get; init; }

    /// <summary>The proxy's password (<c>--socks5-password</c>); null generates one.</summary>
    public string? Socks5Password { get; init; }
}
