namespace TsNet.Control.Client;

/// <summary>A token cancelled by its parent or after a timeout on a <see cref="TimeProvider"/> (manual clocks in tests).</summary>
internal sealed class TimeoutScope : IDisposable
{
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationTokenSource _linked;

    /// <summary>Starts the timeout.</summary>
    public TimeoutScope(TimeSpan timeout, TimeProvider time, CancellationToken parent)
    {
        _timeout = new CancellationTokenSource(timeout, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(parent, _timeout.Token);
    }

    /// <summary>The bounded token.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>True when the timeout (not the parent) cancelled it.</summary>
    public bool TimedOut => _timeout.IsCancellationRequested;

    /// <summary>Stops the timer.</summary>
    public void Dispose()
    {
        _linked.Dispose();
        _timeout.Dispose();
    }
}
