using System.Net;
using TsNet.Control.Session;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// The node's end of an in-process fake coordination server (<see cref="FakeControlTailnet"/>): it records what the
/// node reports (home DERP region, endpoints) and hands the test the node's observer to play map messages to.
/// </summary>
internal sealed class FakeControlSession : IControlSession
{
    private readonly TaskCompletionSource<IControlObserver> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _homeDerp;
    private IReadOnlyList<IPEndPoint> _endpoints = [];
    private IReadOnlyDictionary<int, TimeSpan> _derpLatencies = new Dictionary<int, TimeSpan>();

    /// <summary>Completes with the node's observer when the node starts the session.</summary>
    public Task<IControlObserver> Started => _started.Task;

    /// <summary>The last home DERP region the node reported (0 before any).</summary>
    public int HomeDerp => Volatile.Read(ref _homeDerp);

    /// <summary>The DERP region latencies the node last reported (NetInfo.DERPLatency).</summary>
    public IReadOnlyDictionary<int, TimeSpan> DerpLatencies => Volatile.Read(ref _derpLatencies);

    /// <summary>The endpoints of the node's last lite update.</summary>
    public IReadOnlyList<IPEndPoint> Endpoints => Volatile.Read(ref _endpoints);

    /// <summary>Raised (on the node's loop task: do not block) when the node reports a home region.</summary>
    public event Action<int>? HomeDerpReported;

    public void Start(IControlObserver observer) => _started.TrySetResult(observer);

    public void UpdateEndpoints(IReadOnlyList<IPEndPoint> endpoints) => Volatile.Write(ref _endpoints, [.. endpoints]);

    public void UpdateHomeDerp(int regionId)
    {
        Volatile.Write(ref _homeDerp, regionId);
        HomeDerpReported?.Invoke(regionId);
    }

    public void UpdateDerpLatencies(IReadOnlyDictionary<int, TimeSpan> latencies) =>
        Volatile.Write(ref _derpLatencies, new Dictionary<int, TimeSpan>(latencies));

    public Task LogoutAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
