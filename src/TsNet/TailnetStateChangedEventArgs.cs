namespace TsNet;

/// <summary>Carried by <see cref="TailnetServer.StateChanged"/>.</summary>
public sealed class TailnetStateChangedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public TailnetStateChangedEventArgs(TailnetState state, Uri? authUrl = null, Exception? exception = null)
    {
        State = state;
        AuthUrl = authUrl;
        Exception = exception;
    }

    /// <summary>The new state.</summary>
    public TailnetState State { get; }

    /// <summary>Where to log in, when <see cref="State"/> is <see cref="TailnetState.NeedsLogin"/>.</summary>
    public Uri? AuthUrl { get; }

    /// <summary>
    /// The cause, when <see cref="State"/> is <see cref="TailnetState.Faulted"/>; for <see cref="TailnetState.Stopped"/>
    /// the <see cref="TailnetLoginException"/> of a refused login or the error of a failed start, if that stopped it.
    /// </summary>
    public Exception? Exception { get; }
}
