using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TsNet;

/// <summary>
/// Configuration of a <see cref="TailnetServer"/>. The server copies it when it is constructed, so later changes
/// to this object do not affect a running node (use <see cref="TailnetServer.AddOrUpdatePeer"/> for peers).
/// </summary>
public sealed class TailnetServerOptions
{
    /// <summary>The node's WireGuard private key. Required (a state directory arrives with the facade issue).</summary>
    public WireGuardKey PrivateKey { get; set; }

    /// <summary>The node's overlay addresses with their prefix, e.g. <c>100.64.0.2/32</c> and <c>fd7a:115c:a1e0::2/128</c>.</summary>
    public IList<IPNetwork> Addresses { get; } = new List<IPNetwork>();

    /// <summary>UDP port of the underlay socket; 0 (default) picks an ephemeral port, see <see cref="TailnetServer.ListenPort"/>.</summary>
    public int ListenPort { get; set; }

    /// <summary>
    /// Overlay MTU. Default 1280, like Tailscale: the IPv6 minimum, so every inner packet fits after 32 bytes of
    /// WireGuard overhead (+ IP/UDP headers) on any underlay path down to 1340 bytes, and IPv6 never needs fragmenting.
    /// </summary>
    public int Mtu { get; set; } = 1280;

    /// <summary>The node's peers.</summary>
    public IList<TailnetPeer> Peers { get; } = new List<TailnetPeer>();

    /// <summary>Logger factory; defaults to no logging.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>Clock for every protocol timer; defaults to <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Capacity of each queue between the node's loops; a full queue drops and counts (default 1024).</summary>
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>Hooks for tests only (shortened timers, forced load, socket rebind); not public API.</summary>
    internal TailnetTestHooks TestHooks { get; set; } = new();
}
