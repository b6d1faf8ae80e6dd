using System.Diagnostics;

namespace TsNet.Benchmarks.Soak;

/// <summary>
/// Removes a peer and re-adds it every <see cref="SoakOptions.ChurnInterval"/> on the churned pair (B and C, turn
/// about: B drops C, next time C drops B), and remembers each window so traffic between that pair which failed
/// during it counts as an expected failure. Times are <see cref="Stopwatch"/> timestamps.
/// </summary>
internal sealed class PeerChurn
{
    /// <summary>How long after a re-add the pair counts as recovering (a new handshake; TCP's backed-off retransmits).</summary>
    public static readonly TimeSpan Recovery = TimeSpan.FromSeconds(30);

    private readonly List<(long Start, long End)> _windows = [];
    private readonly SoakNode _first;
    private readonly SoakNode _second;
    private readonly SoakOptions _options;

    public PeerChurn(SoakNode first, SoakNode second, SoakOptions options)
    {
        _first = first;
        _second = second;
        _options = options;
    }

    /// <summary>Removals done.</summary>
    public int Rounds { get; private set; }

    /// <summary>Removals or re-adds that threw (the message of the last one in <see cref="LastError"/>).</summary>
    public int Errors { get; private set; }

    /// <summary>The last churn error, if any.</summary>
    public string? LastError { get; private set; }

    /// <summary>True when traffic between <paramref name="a"/> and <paramref name="b"/> goes through the churned pair.</summary>
    public bool IsChurnedPair(SoakNode a, SoakNode b) => (a == _first && b == _second) || (a == _second && b == _first);

    /// <summary>True when [<paramref name="start"/>, <paramref name="end"/>] overlaps a churn window or its recovery.</summary>
    public bool Overlaps(long start, long end)
    {
        var recovery = (long)(Recovery.TotalSeconds * Stopwatch.Frequency);
        lock (_windows)
        {
            foreach (var (windowStart, windowEnd) in _windows)
            {
                // An open window (its peer still removed) ends at MaxValue: saturate instead of overflowing.
                var covered = windowEnd > long.MaxValue - recovery ? long.MaxValue : windowEnd + recovery;
                if (start <= covered && end >= windowStart)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Churns until <paramref name="cancellationToken"/> fires; the peer is always re-added before returning.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await Task.Delay(_options.ChurnInterval, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var (remover, removed) = Rounds % 2 == 0 ? (_first, _second) : (_second, _first);
            int index;
            lock (_windows)
            {
                _windows.Add((Stopwatch.GetTimestamp(), long.MaxValue));
                index = _windows.Count - 1;
            }

            Rounds++;
            try
            {
                await remover.Server.RemovePeerAsync(removed.Server.PublicKey, CancellationToken.None);
                // Not cancellable: the peer must come back even when the run ends meanwhile.
                await Task.Delay(_options.ChurnDown, CancellationToken.None);
                await remover.Server.AddOrUpdatePeerAsync(removed.AsPeer(), CancellationToken.None);
            }
            catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException or ArgumentException)
            {
                Errors++;
                LastError = ex.GetType().Name + ": " + ex.Message;
            }

            lock (_windows)
            {
                _windows[index] = (_windows[index].Start, Stopwatch.GetTimestamp());
            }
        }
    }
}
