using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// Logs, every <c>interval</c> while a long transfer runs, each node's status line and its netstack's TCP connections
/// and counters — so a transfer that stalls in CI leaves the state that explains it (window, backoff, drops, path) in
/// the test output, not just a timeout. Dispose stops it (bounded).
/// </summary>
public sealed class TransferWatch : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private TransferWatch(TestLog log, TimeSpan interval, IReadOnlyList<(ControlModeNode Node, WireGuardKey Peer)> nodes)
    {
        _loop = LoopAsync(log, interval, nodes, _stop.Token);
    }

    /// <summary>Starts logging <paramref name="nodes"/> (each with the peer whose path and counters to show).</summary>
    public static TransferWatch Start(TestLog log, TimeSpan interval, params (ControlModeNode Node, WireGuardKey Peer)[] nodes) =>
        new(log, interval, nodes);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // A describe stuck on a wedged loop: the log already says what it could.
        }

        _stop.Dispose();
    }

    private static async Task LoopAsync(TestLog log, TimeSpan interval, IReadOnlyList<(ControlModeNode Node, WireGuardKey Peer)> nodes, CancellationToken cancellationToken)
    {
        var tick = 0;
        using var timer = new PeriodicTimer(interval);
        try
        {
            // Bounded by the test: at most one line set per interval until disposed.
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                tick++;
                foreach (var (node, peer) in nodes)
                {
                    log.Write($"watch {tick}: {PathsRig.DescribeStatus(node, peer)}");
                    try
                    {
                        var detail = await node.Server.DescribeAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
                        log.Write($"watch {tick} [{node.Name}] tcp: {detail.ReplaceLineEndings(" | ")}");
                    }
                    catch (Exception e) when (e is TimeoutException or InvalidOperationException or ObjectDisposedException)
                    {
                        log.Write($"watch {tick} [{node.Name}] tcp: no answer ({e.GetType().Name})");
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }
}
