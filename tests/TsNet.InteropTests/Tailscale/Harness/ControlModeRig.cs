using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// One control-mode interop test's world: a work directory, the test control server and the TsNet nodes and
/// <c>tailscaled</c>s the test adds. Dispose stops everything in reverse order (nodes, daemons, server, then the work
/// directory, which keeps the logs unless <see cref="Complete"/> was called), also when the test failed half-way.
/// </summary>
public sealed class ControlModeRig : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = new();

    private ControlModeRig(TailscaleWorkDir workDir, TestControlServer control)
    {
        WorkDir = workDir;
        Control = control;
    }

    /// <summary>The work directory (logs, state directories).</summary>
    public TailscaleWorkDir WorkDir { get; }

    /// <summary>The test control server.</summary>
    public TestControlServer Control { get; }

    /// <summary>The test's log.</summary>
    public TestLog Log => WorkDir.Log;

    /// <summary>Creates the work directory and starts the control server with <paramref name="options"/>.</summary>
    public static async Task<ControlModeRig> StartAsync(TestLog log, TestControlServerOptions options, CancellationToken cancellationToken)
    {
        TailscaleBinaries.EnsureAvailable();
        var workDir = await TailscaleWorkDir.CreateAsync(log, cancellationToken);
        try
        {
            return new ControlModeRig(workDir, await TestControlServer.StartAsync(workDir, options, cancellationToken));
        }
        catch
        {
            await workDir.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates (does not start) a TsNet node against the server; the rig disposes it.</summary>
    public ControlModeNode AddNode(string name, string? authKey, Action<TailnetServerOptions>? configure = null, string? stateDirectory = null)
    {
        var node = ControlModeNode.Create(WorkDir, Control.Url, name, authKey, configure, stateDirectory);
        _owned.Add(node);
        return node;
    }

    /// <summary>Starts a userspace <c>tailscaled</c> in the work directory; the rig disposes it.</summary>
    public async Task<Tailscaled> StartTailscaledAsync(TailscaledOptions options, CancellationToken cancellationToken)
    {
        var daemon = await Tailscaled.StartAsync(WorkDir, options, cancellationToken);
        _owned.Add(daemon);
        return daemon;
    }

    /// <summary>Marks the test passed (the work directory is deleted on dispose).</summary>
    public void Complete() => WorkDir.Complete();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            try
            {
                await _owned[i].DisposeAsync();
            }
            catch (Exception e)
            {
                Log.Write($"dispose of {_owned[i].GetType().Name} failed: {e}");
            }
        }

        await Control.DisposeAsync();
        await WorkDir.DisposeAsync();
    }
}
