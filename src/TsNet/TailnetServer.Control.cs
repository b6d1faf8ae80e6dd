using System.Net;

namespace TsNet;

public sealed partial class TailnetServer
{
    private int _state;
    private Uri? _authUrl;
    private string? _dnsName;
    /// <summary>Most state events waiting for a slow <see cref="StateChanged"/> handler; older ones are dropped.</summary>
    private const int MaxQueuedStateEvents = 64;

    private readonly Queue<TailnetStateChangedEventArgs> _stateEvents = new();
    private bool _raisingStateEvents;

    /// <summary>Where the node is in its life: static mode goes Stopped → Running; control mode passes Starting and maybe NeedsLogin.</summary>
    public TailnetState State => (TailnetState)Volatile.Read(ref _state);

    /// <summary>Where to log in, while <see cref="State"/> is <see cref="TailnetState.NeedsLogin"/>; null otherwise.</summary>
    public Uri? AuthUrl => Volatile.Read(ref _authUrl);

    /// <summary>
    /// Raised when <see cref="State"/> changes (with <see cref="AuthUrl"/> for a pending login and the cause for a
    /// fault). Raised on a thread-pool thread, never on a loop of the node; a handler that throws is logged and ignored.
    /// </summary>
    public event EventHandler<TailnetStateChangedEventArgs>? StateChanged;

    /// <summary>The node's full DNS name on the tailnet, e.g. <c>web.tail1234.ts.net</c> (no trailing dot), once Running in control mode.</summary>
    public string? DnsName => Volatile.Read(ref _dnsName);

    /// <summary>
    /// Starts the node if needed and completes when it is <see cref="TailnetState.Running"/>. In control mode that is
    /// after registration and the first netmap; while an interactive login is needed it keeps waiting
    /// (<see cref="StateChanged"/> carries the <see cref="AuthUrl"/>).
    /// </summary>
    /// <exception cref="TailnetLoginException">The coordination server refused the node.</exception>
    /// <exception cref="InvalidOperationException">The node faulted (a loop or the control session failed; the inner exception is the cause).</exception>
    /// <exception cref="ObjectDisposedException">The node was disposed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async ValueTask UpAsync(CancellationToken cancellationToken = default)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        if (_options.ControlUrl is not null)
        {
            await WaitUntilRunningAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Logs the node out of its coordination server: its node key is invalidated there and the state directory's
    /// login is cleared (the next start needs an auth key or an interactive login). Afterwards the node has no
    /// peers and no addresses and its <see cref="State"/> is <see cref="TailnetState.NeedsLogin"/>, as Go tsnet's is
    /// after a logout; to log in again, dispose it and create a new node on the same state directory. Static mode: an
    /// <see cref="InvalidOperationException"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Static mode, or the node is not started.</exception>
    /// <exception cref="ObjectDisposedException">The node was disposed.</exception>
    public async ValueTask LogoutAsync(CancellationToken cancellationToken = default)
    {
        if (_options.ControlUrl is null)
        {
            throw new InvalidOperationException("LogoutAsync needs a node in control mode (TailnetServerOptions.ControlUrl)");
        }

        await LogoutCoreAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sets <see cref="DnsName"/> (control mode, from the netmap's self node; no trailing dot).</summary>
    private void SetDnsName(string? name) => Volatile.Write(ref _dnsName, name);

    /// <summary>
    /// Moves <see cref="State"/> and queues a <see cref="StateChanged"/> event. Events are raised one at a time, in the
    /// order of the changes, on a thread-pool thread (never on a loop or the control session's task).
    /// </summary>
    private void SetState(TailnetState state, Uri? authUrl = null, Exception? exception = null)
    {
        lock (_stateEvents)
        {
            Volatile.Write(ref _authUrl, state == TailnetState.NeedsLogin ? authUrl : null);
            if (Interlocked.Exchange(ref _state, (int)state) == (int)state && state != TailnetState.NeedsLogin)
            {
                return;
            }

            if (StateChanged is null)
            {
                return;
            }

            if (_stateEvents.Count == MaxQueuedStateEvents)
            {
                _stateEvents.Dequeue(); // a handler that blocks sees the latest changes, not an ever longer backlog
            }

            _stateEvents.Enqueue(new TailnetStateChangedEventArgs(state, authUrl, exception));
            if (_raisingStateEvents)
            {
                return; // the running drain raises it after the ones before it
            }

            _raisingStateEvents = true;
        }

        _ = Task.Run(RaiseStateEvents);
    }

    /// <summary>Raises the queued state events in order until none is left.</summary>
    private void RaiseStateEvents()
    {
        while (true)
        {
            TailnetStateChangedEventArgs args;
            lock (_stateEvents)
            {
                if (!_stateEvents.TryDequeue(out args!))
                {
                    _raisingStateEvents = false;
                    return;
                }
            }

            try
            {
                StateChanged?.Invoke(this, args);
            }
            catch (Exception ex)
            {
                LogStateChangedHandlerFailed(_logger, ex);
            }
        }
    }

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 1400, Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "A StateChanged handler threw; ignored")]
    private static partial void LogStateChangedHandlerFailed(Microsoft.Extensions.Logging.ILogger logger, Exception exception);
}
