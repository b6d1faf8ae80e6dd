using System.Net;

namespace TsNet.Control.Session;

/// <summary>
/// The node's conversation with a coordination server (register, map long poll, lite updates, logout), as the
/// <see cref="TailnetServer"/> sees it. <c>ControlClient</c> is the real one; tests inject fakes through
/// <see cref="TailnetTestHooks.ControlSessionFactory"/>. Every member is safe to call from any thread.
/// </summary>
internal interface IControlSession : IAsyncDisposable
{
    /// <summary>
    /// Starts the session's background task: register (reusing a login the state still holds), then poll the map and
    /// report to <paramref name="observer"/> until disposed; reconnects with backoff on its own. Called once.
    /// </summary>
    void Start(IControlObserver observer);

    /// <summary>The node's underlay endpoints changed: sent to the server in a lite map update (latest value wins).</summary>
    void UpdateEndpoints(IReadOnlyList<IPEndPoint> endpoints);

    /// <summary>
    /// The node's home DERP region changed (0 = none): sent as <c>Hostinfo.NetInfo.PreferredDERP</c> in a lite map
    /// update, so peers learn where to reach the node (latest value wins).
    /// </summary>
    void UpdateHomeDerp(int regionId);

    /// <summary>
    /// Netcheck's latest latency per DERP region: sent as <c>Hostinfo.NetInfo.DERPLatency</c> with the next map request
    /// or lite update. Alone it causes none — latencies move with every report, and like Tailscale's clients the node
    /// tells the server only when its home region or endpoints change (latest value wins).
    /// </summary>
    void UpdateDerpLatencies(IReadOnlyDictionary<int, TimeSpan> latencies);

    /// <summary>
    /// Logs the node out: its node key is invalidated on the server, the state's login is cleared and a new node key
    /// is made for the next login. The session stops polling afterwards.
    /// </summary>
    Task LogoutAsync(CancellationToken cancellationToken);
}
