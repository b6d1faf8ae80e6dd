using TsNet.WireGuard.Protocol;

namespace TsNet;

/// <summary>Knobs that let tests observe protocol behaviour quickly. Internal on purpose.</summary>
internal sealed class TailnetTestHooks
{
    /// <summary>Replaces the WireGuard time constants (e.g. rekey after 4 s).</summary>
    public WireGuardTimerSettings Timers { get; set; } = WireGuardTimerSettings.Default;

    /// <summary>
    /// Handshake backlog at which the node counts as under load and answers initiations with cookie replies.
    /// Default 128 (wireguard-go: an eighth of its 1024-entry handshake queue); 0 = always under load.
    /// </summary>
    public int UnderLoadThreshold { get; set; } = 128;

    /// <summary>Interval between relay Binds while no Challenge comes back (default 1 s; a handshake gives up after 10).</summary>
    public TimeSpan RelayBindRetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// When set, the node's underlay is a port on this in-process hub instead of UDP sockets (reached at
    /// <c>127.0.0.1:</c><see cref="TailnetServer.ListenPort"/> by the hub's other nodes).
    /// </summary>
    public Underlay.InMemoryUnderlayHub? InMemoryUnderlay { get; set; }

    /// <summary>
    /// When set, wraps each bound UDP underlay in a layer of the caller's (the soak benchmark's seeded loss and
    /// reordering); the layer owns the one it wraps.
    /// </summary>
    public Func<Underlay.IUnderlay, Underlay.IUnderlay>? WrapUdpUnderlay { get; set; }

    /// <summary>Runs during start right after the underlay was bound; an exception it throws fails the start (leak tests).</summary>
    public Action? AfterUnderlayBound { get; set; }

    /// <summary>
    /// When set, control mode uses the session this returns instead of the real control client (fake control
    /// servers in unit tests).
    /// </summary>
    public Func<Control.Session.ControlSessionContext, Control.Session.IControlSession>? ControlSessionFactory { get; set; }

    /// <summary>A test root certificate an https control URL may chain to (tests only).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ControlTrustedRoot { get; set; }
}
