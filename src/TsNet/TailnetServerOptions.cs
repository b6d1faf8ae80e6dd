using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TsNet;

/// <summary>
/// Configuration of a <see cref="TailnetServer"/>. The server copies it when it is constructed, so later changes
/// to this object do not affect a running node (use <see cref="TailnetServer.AddOrUpdatePeer"/> for peers).
/// </summary>
public sealed partial class TailnetServerOptions
{
    /// <summary>
    /// The node's WireGuard private key. Set this or <see cref="StateDirectory"/>, not both; default: unset.
    /// </summary>
    public WireGuardKey PrivateKey { get; set; }

    /// <summary>
    /// A directory where the node keeps its private key when <see cref="PrivateKey"/> is not set: the key is read
    /// from <c>&lt;dir&gt;/node.key</c> (wg-style base64 and a newline), or generated and written there by the
    /// <see cref="TailnetServer"/> constructor the first time, so the node keeps its identity (and
    /// <see cref="TailnetServer.PublicKey"/> is known) before <see cref="TailnetServer.StartAsync"/>. The file is created
    /// with mode 0600 (owner only) and the directory, if missing, with 0700; an existing key file readable by group or
    /// others is tightened to owner-only with a logged warning. Default: null (use <see cref="PrivateKey"/>).
    /// </summary>
    public string? StateDirectory { get; set; }

    /// <summary>The node's overlay addresses with their prefix, e.g. <c>100.64.0.2/32</c> and <c>fd7a:115c:a1e0::2/128</c>.</summary>
    public IList<IPNetwork> Addresses { get; } = new List<IPNetwork>();

    /// <summary>UDP port of the underlay socket; 0 (default) picks an ephemeral port, see <see cref="TailnetServer.ListenPort"/>.</summary>
    public int ListenPort { get; set; }

    /// <summary>
    /// Overlay MTU. Default 1280, like Tailscale: the IPv6 minimum, so every inner packet fits after 32 bytes of
    /// WireGuard overhead (+ IP/UDP headers) on any underlay path down to 1340 bytes, and IPv6 never needs fragmenting.
    /// </summary>
    public int Mtu { get; set; } = 1280;

    /// <summary>
    /// The node's disco private key (tailscale's path-discovery and relay-handshake key; see <see cref="DiscoKey.Generate"/>).
    /// Peers' <see cref="TailnetRelayPath.PeerDiscoKey"/> name its public half (<see cref="TailnetServer.DiscoPublicKey"/>).
    /// Default: empty, and a new key is generated for each <see cref="TailnetServer"/> (like tailscale, per process).
    /// </summary>
    public DiscoKey DiscoKey { get; set; }

    /// <summary>The node's peers.</summary>
    public IList<TailnetPeer> Peers { get; } = new List<TailnetPeer>();

    /// <summary>
    /// Optional DNS suffix for dialing peers by name, e.g. <c>tailnet.example</c>: a peer named <c>db</c> then also
    /// answers to <c>db.tailnet.example</c> (case-insensitive, a trailing dot allowed) in
    /// <see cref="TailnetServer.ConnectTcpAsync(string, CancellationToken)"/> and <see cref="TailnetServer.CreateHttpClient"/>.
    /// One leading dot is dropped; the rest must be DNS labels (letters, digits, inner hyphens) joined by dots.
    /// Names never fall back to the host's DNS. Default: null (bare peer names and IP literals only).
    /// </summary>
    public string? DnsSuffix { get; set; }

    /// <summary>Logger factory; defaults to no logging.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>Clock for every protocol timer; defaults to <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Capacity, in packets, of each queue between the node's loops (default 1024; 1 to 65 536): underlay → dataplane
    /// and dataplane → netstack, where a full queue drops and counts (the dataplane never blocks), and netstack →
    /// dataplane, where a full queue applies back-pressure instead: the netstack keeps its outbound packets, in
    /// order, in its own queue of the same capacity (only what overflows that is dropped and counted) and reads no
    /// further inbound packets until there is room again.
    /// </summary>
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>
    /// Reads a wg-quick configuration (the format of <c>/etc/wireguard/wg0.conf</c>) into options.
    /// <c>[Interface]</c>: <c>PrivateKey</c>, <c>Address</c> (comma-separated, may repeat; the node's own address is
    /// kept as a host address, <c>10.0.0.2/24</c> becomes <c>10.0.0.2/32</c>, because routing goes by peers'
    /// AllowedIPs), <c>ListenPort</c>, <c>MTU</c>; <c>DNS</c>, <c>Table</c>, <c>PreUp</c>/<c>PostUp</c>/<c>PreDown</c>/<c>PostDown</c>,
    /// <c>SaveConfig</c> and <c>FwMark</c> are ignored with a warning. <c>[Peer]</c>: <c>PublicKey</c>, <c>PresharedKey</c>,
    /// <c>Endpoint</c> (<c>host:port</c> or <c>[v6]:port</c>), <c>AllowedIPs</c> (comma-separated, may repeat; host
    /// bits are cleared like wg does), <c>PersistentKeepalive</c> (seconds or <c>off</c>), and a comment line
    /// <c># Name = db</c> as the peer's <see cref="TailnetPeer.Name"/> (wg-quick ignores comments, so the file stays
    /// usable with wg-quick). Keys are case-insensitive; <c>#</c> starts a comment anywhere.
    /// </summary>
    /// <param name="text">The file's contents.</param>
    /// <param name="onWarning">Receives one message per ignored setting, e.g. <c>line 4: DNS is ignored: ...</c>.</param>
    /// <returns>New options; set <see cref="LoggerFactory"/>, <see cref="DnsSuffix"/> and the like on them as needed.</returns>
    /// <exception cref="WireGuardConfigException">The text is not a valid configuration; <see cref="WireGuardConfigException.LineNumber"/> says where.</exception>
    public static TailnetServerOptions FromWireGuardConfig(string text, Action<string>? onWarning = null) =>
        Configuration.WireGuardConfigParser.Parse(text, fileName: null, onWarning);

    /// <summary>
    /// Reads the wg-quick configuration file at <paramref name="path"/> (see <see cref="FromWireGuardConfig"/>).
    /// Error messages and warnings start with <c>path:line: </c>, and <see cref="WireGuardConfigException.FileName"/> is set.
    /// </summary>
    /// <exception cref="WireGuardConfigException">The file is not a valid configuration.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static TailnetServerOptions FromWireGuardConfigFile(string path, Action<string>? onWarning = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Configuration.WireGuardConfigParser.Parse(File.ReadAllText(path), path, onWarning);
    }

    /// <summary>Bounds on queues, tables and per-connection resources (design §5 defaults).</summary>
    public TailnetLimits Limits { get; set; } = new();

    /// <summary>Hooks for tests only (shortened timers, forced load, socket rebind); not public API.</summary>
    internal TailnetTestHooks TestHooks { get; set; } = new();
}
