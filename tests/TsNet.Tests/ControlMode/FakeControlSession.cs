using System.Net;
using TsNet.Control.Netmap;
using TsNet.Control.Session;

namespace TsNet.Tests.ControlMode;

/// <summary>
/// A control session a test drives by hand: it records what the node asks of it (start, endpoints, logout,
/// dispose) and hands the test the node's observer, through which the test plays the coordination server.
/// </summary>
internal sealed class FakeControlSession(ControlSessionContext context) : IControlSession
{
    private readonly TaskCompletionSource<IControlObserver> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();
    private IReadOnlyList<IPEndPoint> _endpoints = [];

    /// <summary>What the node gave the session.</summary>
    public ControlSessionContext Context { get; } = context;

    /// <summary>The node's observer once <see cref="Start"/> was called.</summary>
    public IControlObserver Observer => _started.Task.IsCompleted ? _started.Task.Result : throw new InvalidOperationException("not started");

    /// <summary>Completes with the observer when the node starts the session.</summary>
    public Task<IControlObserver> Started => _started.Task;

    public int StartCalls { get; private set; }

    public bool LoggedOut { get; private set; }

    public bool Disposed { get; private set; }

    /// <summary>The endpoints of the last lite update.</summary>
    public IReadOnlyList<IPEndPoint> Endpoints
    {
        get
        {
            lock (_gate)
            {
                return _endpoints;
            }
        }
    }

    public void Start(IControlObserver observer)
    {
        StartCalls++;
        _started.TrySetResult(observer);
    }

    public void UpdateEndpoints(IReadOnlyList<IPEndPoint> endpoints)
    {
        lock (_gate)
        {
            _endpoints = [.. endpoints];
        }
    }

    public void UpdateHomeDerp(int regionId)
    {
        HomeDerp = regionId;
    }

    /// <summary>The last home DERP region the node reported.</summary>
    public int HomeDerp { get; private set; }

    public void UpdateDerpLatencies(IReadOnlyDictionary<int, TimeSpan> latencies) => DerpLatencies = latencies;

    /// <summary>The last DERP latencies the node reported.</summary>
    public IReadOnlyDictionary<int, TimeSpan>? DerpLatencies { get; private set; }

    public Task LogoutAsync(CancellationToken cancellationToken)
    {
        LoggedOut = true;
        return Task.CompletedTask;
    }

    /// <summary>Runs when the node disposes the session (to see what the node still has at that moment).</summary>
    public Action? OnDispose { get; set; }

    public ValueTask DisposeAsync()
    {
        OnDispose?.Invoke();
        Disposed = true;
        return ValueTask.CompletedTask;
    }

    /// <summary>Plays one map message to the node and waits until the node applied it.</summary>
    public Task ApplyAsync(NetmapUpdate update, CancellationToken cancellationToken) =>
        Observer.OnNetmapAsync(update, cancellationToken).AsTask();
}
