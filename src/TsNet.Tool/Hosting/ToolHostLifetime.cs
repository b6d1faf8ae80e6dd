using Microsoft.Extensions.Hosting;

namespace TsNet.Tool.Hosting;

/// <summary>
/// A host lifetime that does nothing: the tool's commands own SIGINT/SIGTERM and stop their servers themselves
/// (the default console lifetime would register its own signal handlers and print "Press Ctrl+C" lines).
/// </summary>
internal sealed class ToolHostLifetime : IHostLifetime
{
    /// <inheritdoc/>
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
