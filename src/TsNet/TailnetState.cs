namespace TsNet;

/// <summary>Where a <see cref="TailnetServer"/> is in its life (see <see cref="TailnetServer.State"/>).</summary>
public enum TailnetState
{
    /// <summary>Not started yet, or stopped (disposed, or logged out).</summary>
    Stopped = 0,

    /// <summary>Started; in control mode registering with the coordination server and waiting for the first netmap.</summary>
    Starting,

    /// <summary>The coordination server wants an interactive login: <see cref="TailnetServer.AuthUrl"/> says where.</summary>
    NeedsLogin,

    /// <summary>Running: in static mode once started, in control mode once the first netmap was applied.</summary>
    Running,

    /// <summary>The node key expired (judged by the local clock); peers will not talk to the node until it logs in again.</summary>
    Expired,

    /// <summary>A loop of the node failed; pending and later calls fail with <see cref="TailnetStateChangedEventArgs.Exception"/>.</summary>
    Faulted,
}
