namespace TsNet.Tool.Http;

/// <summary>
/// Cancels a connection's work when it makes no progress for a while: every read or write restarts the timer
/// (<see cref="Restart"/>), so a slow but moving transfer never times out while a stalled client is dropped.
/// </summary>
internal sealed class IdleWatchdog : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _outer;

    /// <summary>A watchdog whose token also fires with <paramref name="outer"/>; not armed until <see cref="Restart"/>.</summary>
    public IdleWatchdog(CancellationToken outer)
    {
        _outer = outer;
        _source = CancellationTokenSource.CreateLinkedTokenSource(outer);
    }

    /// <summary>Fires when the timer expires or the outer token fires.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>True when the timer fired (not the outer token).</summary>
    public bool Expired => _source.IsCancellationRequested && !_outer.IsCancellationRequested;

    /// <summary>(Re)arms the timer: the token fires unless the next restart comes within <paramref name="timeout"/>.</summary>
    public void Restart(TimeSpan timeout) => _source.CancelAfter(timeout);

    /// <inheritdoc/>
    public void Dispose() => _source.Dispose();
}
