using TsNet.Netstack.Tcp;

namespace TsNet.Netstack.Sockets;

/// <summary>
/// One TCP connection as the netstack tracks it: the protocol state (<see cref="TcpConnection"/>) plus who it belongs
/// to (a listener, the unmatched-flow hook, or an outbound connect) and the app hand-off the loop attaches.
/// </summary>
internal sealed class TcpSocket
{
    public TcpSocket(TcpConnection connection, TcpListenerEntry? listener)
    {
        Connection = connection;
        Listener = listener;
    }

    public TcpConnection Connection { get; }

    /// <summary>The listener whose backlog this connection counts against until it is accepted.</summary>
    public TcpListenerEntry? Listener { get; set; }

    /// <summary>For a flow claimed by the unmatched-flow hook: receives the connection once established.</summary>
    public UnmatchedTcpFlowClaim? FlowHandler { get; set; }

    /// <summary>The app hand-off (null until established or, for connects, set at creation).</summary>
    public TcpStreamChannel? Channel { get; set; }

    /// <summary>Loop-owned state for an outbound connect waiting for the handshake.</summary>
    public object? PendingConnect { get; set; }

    /// <summary>Whether the socket is already in the core's touched list.</summary>
    internal bool Touched { get; set; }

    /// <summary>Deadline under which the socket sits in the core's timer queue.</summary>
    internal long ScheduledAt { get; set; } = long.MaxValue;

    /// <summary>Removed from the connection table.</summary>
    internal bool Removed { get; set; }

    /// <summary>Whether the FIN for an app-side completion was already requested.</summary>
    public bool ShutdownRequested { get; set; }

    /// <summary>Events taken from the connection but not yet handled by the loop.</summary>
    public TcpEvents PendingEvents { get; set; }
}
