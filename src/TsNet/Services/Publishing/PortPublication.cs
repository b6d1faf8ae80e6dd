using Microsoft.Extensions.Logging;
using TsNet.Services.Publishing;

namespace TsNet;

/// <summary>
/// Ports published by <see cref="TailnetServer.PublishAsync"/>: each mapping's listening socket and the connections
/// and UDP sessions relayed through it. Disposing closes every listener, resets the connections still relayed, ends
/// the UDP sessions and waits for all of it; disposing the node does the same.
/// </summary>
public sealed class PortPublication : IAsyncDisposable
{
    /// <summary>How long disposal waits for relays to wind down (they see cancellation at once; this bounds a stuck OS call).</summary>
    private static readonly TimeSpan s_drainLimit = TimeSpan.FromSeconds(5);

    private readonly PortRelay[] _relays;
    private readonly PublishingContext _context;
    private readonly CancellationTokenSource _stopping;
    private readonly object _gate = new();
    private CancellationTokenRegistration _nodeStopping;
    private Task? _disposeTask;

    internal PortPublication(PortRelay[] relays, PublishingContext context, CancellationTokenSource stopping)
    {
        _relays = relays;
        _context = context;
        _stopping = stopping;
        Ports = relays.Select(r => r.Port).ToArray();
    }

    /// <summary>The published ports, in the order of the mappings given to <see cref="TailnetServer.PublishAsync"/>.</summary>
    public IReadOnlyList<PublishedPort> Ports { get; }

    /// <summary>Test hook: sockets, listeners and relayed connections still open.</summary>
    internal int OpenSockets => _context.OpenSockets;

    /// <summary>Test hook: every loop and session task running now.</summary>
    internal IReadOnlyList<Task> OwnedTasks() => _context.Tasks.Snapshot();

    /// <summary>Closes every listener and ends every relayed connection and session. Idempotent.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposeTask ??= DisposeCoreAsync();
            return new ValueTask(_disposeTask);
        }
    }

    /// <summary>Ties the publication to its node: disposing the node disposes it.</summary>
    internal void DisposeWith(CancellationToken nodeStopping, Action<Task> track) =>
        _nodeStopping = nodeStopping.UnsafeRegister(_ => track(DisposeAsync().AsTask()), null);

    internal void Start()
    {
        foreach (var relay in _relays)
        {
            relay.Start();
            PublishingLog.Published(_context.Logger, relay.Mapping, relay.Port.EndPoint.ToString());
        }
    }

    private async Task DisposeCoreAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var relay in _relays)
        {
            await relay.DisposeAsync().ConfigureAwait(false);
            PublishingLog.Unpublished(_context.Logger, relay.Mapping);
        }

        // Unregister, not Dispose: this may run inside that very callback (the node is stopping).
        _nodeStopping.Unregister();
        if (await _context.Tasks.WaitAllAsync(s_drainLimit).ConfigureAwait(false))
        {
            _stopping.Dispose();
        }
        else
        {
            PublishingLog.WorkOutlived(_context.Logger, _context.Tasks.Count);
        }
    }
}
