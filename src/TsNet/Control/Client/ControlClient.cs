using System.Net;
using TsNet.Control.Session;

namespace TsNet.Control.Client;

/// <summary>
/// The real control session: <c>/key</c>, ts2021, register, map long poll with reconnect, lite updates, logout.
/// (Placeholder until the control client lands; the wiring creates it through this constructor.)
/// </summary>
internal sealed class ControlClient : IControlSession
{
    private readonly ControlSessionContext _context;

    /// <summary>Creates the session for <paramref name="context"/>; nothing happens before <see cref="Start"/>.</summary>
    public ControlClient(ControlSessionContext context)
    {
        _context = context;
    }

    /// <inheritdoc />
    public void Start(IControlObserver observer) =>
        observer.OnSessionFaulted(new NotSupportedException($"the control client for {_context.ControlUrl} is not built yet"));

    /// <inheritdoc />
    public void UpdateEndpoints(IReadOnlyList<IPEndPoint> endpoints)
    {
    }

    /// <inheritdoc />
    public Task LogoutAsync(CancellationToken cancellationToken) => throw new NotSupportedException("the control client is not built yet");

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
