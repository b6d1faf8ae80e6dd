using Xunit.Abstractions;

namespace TsNet.InteropTests.Harness;

/// <summary>How to set up a <see cref="WireGuardGoPeer"/>: its overlay addresses, its one peer, and logging.</summary>
public sealed class WireGuardGoPeerOptions
{
    /// <summary>Overlay IPv4 address with prefix on the TUN, e.g. <c>100.64.0.1/24</c>.</summary>
    public required string Address { get; init; }

    /// <summary>Optional overlay IPv6 address with prefix, e.g. <c>fd7a:115c:a1e0::1/64</c> (enables IPv6 in the namespace).</summary>
    public string? Address6 { get; init; }

    /// <summary>UDP listen port on the host; 0 picks a free one.</summary>
    public int ListenPort { get; init; }

    /// <summary>The peer's private key (base64); null generates one with <c>wg genkey</c>.</summary>
    public string? PrivateKey { get; init; }

    /// <summary>Public key (base64) of the peer (e.g. the TsNet node).</summary>
    public required string PeerPublicKey { get; init; }

    /// <summary>Where to reach the peer, e.g. <c>127.0.0.1:51821</c>; null: learn it from the peer's handshake.</summary>
    public string? PeerEndpoint { get; init; }

    /// <summary>The peer's allowed IPs, e.g. <c>100.64.0.2/32</c>.</summary>
    public IReadOnlyList<string> PeerAllowedIps { get; init; } = Array.Empty<string>();

    /// <summary>Optional preshared key (base64).</summary>
    public string? PresharedKey { get; init; }

    /// <summary>Optional persistent keepalive in seconds.</summary>
    public int? PersistentKeepaliveSeconds { get; init; }

    /// <summary>TUN MTU.</summary>
    public int Mtu { get; init; } = 1420;

    /// <summary>Test output for commands and wireguard-go's (verbose) log; null logs to stderr.</summary>
    public ITestOutputHelper? Output { get; init; }

    /// <summary>Bound for the whole start sequence.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(20);
}
