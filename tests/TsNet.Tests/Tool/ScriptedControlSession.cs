using System.Net;
using TsNet.Control.Session;

namespace TsNet.Tests.Tool;

/// <summary>
/// A control session that plays one script against its node when started (e.g. "a login is required at this URL",
/// "the server refused the key", "here is the first netmap") and then does nothing until disposed: the CLI's
/// control-mode paths without a server. The script gets what the node made the session with and its observer.
/// </summary>
internal sealed class ScriptedControlSession(Func<ControlSessionContext, IControlObserver, Task> script) : IControlSession
{
    private int _started;

    /// <summary>Completes once the node started the session and the script ran (faults when the script threw).</summary>
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the node disposed the session.</summary>
    public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The context the node made the session with.</summary>
    public ControlSessionContext? Context { get; private set; }

    /// <summary>A factory for <see cref="TailnetTestHooks.ControlSessionFactory"/> that hands out this session.</summary>
    public Func<ControlSessionContext, IControlSession> Factory => context =>
    {
        Context = context;
        return this;
    };

    public void Start(IControlObserver observer)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("Start is called once");
        }

        // As the real session: the observer hears from the session's own task, not from the caller of Start.
        _ = Task.Run(async () =>
        {
            try
            {
                await script(Context!, observer);
                Started.TrySetResult();
            }
            catch (Exception e)
            {
                Started.TrySetException(e);
            }
        });
    }

    public void UpdateEndpoints(IReadOnlyList<IPEndPoint> endpoints)
    {
    }

    public void UpdateHomeDerp(int regionId)
    {
        HomeDerp = regionId;
    }

    /// <summary>The last home DERP region the node reported.</summary>
    public int HomeDerp { get; private set; }

    public void UpdateDerpLatencies(IReadOnlyDictionary<int, TimeSpan> latencies)
    {
    }

    public Task LogoutAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Disposed.TrySetResult();
        return ValueTask.CompletedTask;
    }
}
