using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Paths;

/// <summary>
/// Sans-IO netcheck: STUN binding requests to every DERP region's STUN node on a schedule, per-region latency, the
/// home region (lowest scaled latency with hysteresis, derp.md §6.4) and this node's public endpoints as STUN saw them.
/// Called on the dataplane loop only; requests go out through <see cref="IPathOutput.SendUdp"/> from the node's socket.
/// </summary>
/// <remarks>
/// A report sends one request per target at once, retransmits after a random 100–200 ms (twice at most), and ends
/// when every target answered or timed out (3 s). Reports repeat every random 20–26 s while targets are set.
/// When UDP is blocked (derp.md §6.4) the caller measures HTTPS latency to <c>/derp/latency-check</c> for the regions
/// listed by <see cref="RegionsWithoutStun"/> after <see cref="ReportFinished"/> and feeds it back through
/// <see cref="ReportHttpsLatency"/>; it counts like a STUN answer of that report.
/// </remarks>
internal sealed class NetcheckCore
{
    /// <summary>STUN targets probed (a DERP map has a few dozen nodes; more are ignored).</summary>
    public const int MaxTargets = 128;

    /// <summary>Reports whose latencies count towards a region's score (about 5 min of reports at ~23 s).</summary>
    private const int MaxHistoryPerRegion = 16;

    private readonly NetcheckTimings _timings;
    private readonly Action<Span<byte>> _random;
    private readonly Dictionary<int, List<(long At, long Latency)>> _history = [];
    private StunTarget[] _targets = [];
    private NetcheckProbe[] _probes = [];
    private bool _reportRunning;
    private long _nextReportAt = Timestamps.NotArmed;
    private Dictionary<int, TimeSpan> _regionLatencies = [];
    private IReadOnlyList<IPEndPoint> _publicEndpoints = [];
    private readonly List<UnderlayAddress> _reportEndpoints = [];
    private readonly List<int> _regionsWithoutStun = [];
    private long _changedOutsidePollAt = Timestamps.NotArmed;

    /// <summary>Creates an idle core; <see cref="SetTargets"/> starts the first report.</summary>
    /// <param name="timings">Timers; <see cref="NetcheckTimings.Default"/> when null.</param>
    /// <param name="random">Fills transaction ids and jitter; a cryptographic source when null.</param>
    public NetcheckCore(NetcheckTimings? timings = null, Action<Span<byte>>? random = null)
    {
        _timings = timings ?? NetcheckTimings.Default;
        _random = random ?? RandomNumberGenerator.Fill;
    }

    /// <summary>The current home region; 0 until a report picked one.</summary>
    public int HomeRegion { get; private set; }

    /// <summary>This node's public ip:port as STUN servers observed them in the last report with answers (deduplicated).</summary>
    public IReadOnlyList<IPEndPoint> PublicEndpoints => _publicEndpoints;

    /// <summary>Core time of the last report with a response (<see cref="Timestamps.Never"/> before).</summary>
    public long PublicEndpointsAt { get; private set; } = Timestamps.Never;

    /// <summary>Bumps whenever <see cref="HomeRegion"/> or <see cref="PublicEndpoints"/> change.</summary>
    public int Version { get; private set; }

    /// <summary>Reports finished so far.</summary>
    public int ReportCount { get; private set; }

    /// <summary>The last report's latency per region that answered (best node of the region; STUN, else HTTPS).</summary>
    public IReadOnlyDictionary<int, TimeSpan> RegionLatencies => _regionLatencies;

    /// <summary>
    /// Regions of the last finished report without any STUN answer (blocked UDP, or no STUN server in the map) whose
    /// HTTPS latency is still welcome; emptied as <see cref="ReportHttpsLatency"/> takes them and when a report starts.
    /// </summary>
    public IReadOnlyList<int> RegionsWithoutStun => _regionsWithoutStun;

    /// <summary>Raised on the caller's thread when a report finished (core time); <see cref="RegionsWithoutStun"/> is then set.</summary>
    public event Action<long>? ReportFinished;

    /// <summary>When <see cref="Poll"/> has work next; <see cref="Timestamps.NotArmed"/> when nothing is due.</summary>
    public long NextDeadline
    {
        get
        {
            if (!_reportRunning)
            {
                return Math.Min(_nextReportAt, _changedOutsidePollAt);
            }

            long next = _changedOutsidePollAt;
            foreach (var probe in _probes)
            {
                if (!probe.IsFinished)
                {
                    next = Math.Min(next, probe.FirstSentAt + _timings.ProbeTimeout.Ticks);
                    if (probe.Sends < NetcheckProbe.MaxSends)
                    {
                        next = Math.Min(next, probe.RetransmitAt);
                    }
                }
            }

            return next;
        }
    }

    /// <summary>
    /// Sets the STUN servers to probe (resolved from the DERP map by the caller). A changed set starts a new report at
    /// the next <see cref="Poll"/>; the same set again changes nothing. An empty set stops reports. A target without an
    /// address names a region with no STUN server: it is not probed, but lands in <see cref="RegionsWithoutStun"/>.
    /// </summary>
    public void SetTargets(IReadOnlyList<StunTarget> targets, long now)
    {
        ArgumentNullException.ThrowIfNull(targets);
        // Loops, not LINQ, over this value type: each LINQ operator would be native code of its own for StunTarget.
        var next = new StunTarget[Math.Min(targets.Count, MaxTargets)];
        int kept = 0;
        for (int i = 0; i < next.Length; i++)
        {
            if (targets[i].RegionId > 0)
            {
                next[kept++] = targets[i];
            }
        }

        Array.Resize(ref next, kept);
        if (next.AsSpan().SequenceEqual(_targets))
        {
            return;
        }

        _targets = next;
        var probes = new List<NetcheckProbe>(next.Length);
        for (int i = 0; i < next.Length; i++)
        {
            if (next[i].Address.IsSet)
            {
                probes.Add(new NetcheckProbe(i));
            }
        }

        _probes = [.. probes];
        _regionsWithoutStun.Clear();
        _reportRunning = false;
        _nextReportAt = next.Length == 0 ? Timestamps.NotArmed : now;
        if (HomeRegion != 0 && !CanBeHome(next, HomeRegion))
        {
            // The home region left the map: the next report picks anew.
            HomeRegion = 0;
            Version++;
        }
    }

    /// <summary>Whether <paramref name="region"/> is among <paramref name="targets"/> as a possible home.</summary>
    private static bool CanBeHome(StunTarget[] targets, int region)
    {
        foreach (var target in targets)
        {
            if (target.RegionId == region && target.CanBeHome)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Asks for a report at once (a re-STUN: a CallMeMaybe waits for fresh endpoints): due at the next
    /// <see cref="Poll"/> unless one is running (its end serves the request). False when there are no targets, so no
    /// report will come.
    /// </summary>
    public bool RequestReport(long now)
    {
        if (_targets.Length == 0)
        {
            return false;
        }

        if (!_reportRunning)
        {
            _nextReportAt = Math.Min(_nextReportAt, now);
        }

        return true;
    }

    /// <summary>
    /// Handles a STUN packet from <paramref name="source"/>; true when it answered one of the current report's
    /// requests (then its latency and mapped address count). Anything else returns false and should be dropped.
    /// </summary>
    public bool ReceiveStun(ReadOnlySpan<byte> packet, in UnderlayAddress source, long now)
    {
        if (!_reportRunning || !StunBindingResponse.TryParse(packet, out var txIdBytes, out var mapped))
        {
            return false;
        }

        var txId = TransactionId.Read(txIdBytes);
        foreach (var probe in _probes)
        {
            if (probe.TryAnswer(txId, now))
            {
                if (!_reportEndpoints.Contains(mapped) && _reportEndpoints.Count < MaxTargets)
                {
                    _reportEndpoints.Add(mapped);
                }

                if (AllProbesFinished())
                {
                    FinishReport(now);
                }

                return true;
            }
        }

        return false;
    }

    /// <summary>Starts due reports, sends retransmits, times out probes, finishes reports and schedules the next.</summary>
    public void Poll(long now, IPathOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _changedOutsidePollAt = Timestamps.NotArmed;
        if (!_reportRunning)
        {
            if (now < _nextReportAt)
            {
                return;
            }

            StartReport(now, output);
            return;
        }

        foreach (var probe in _probes)
        {
            if (probe.IsFinished)
            {
                continue;
            }

            if (now - probe.FirstSentAt >= _timings.ProbeTimeout.Ticks)
            {
                probe.TimeOut();
            }
            else if (now >= probe.RetransmitAt && probe.Sends < NetcheckProbe.MaxSends)
            {
                Send(probe, now, output);
            }
        }

        if (AllProbesFinished())
        {
            FinishReport(now);
        }
    }

    private void StartReport(long now, IPathOutput output)
    {
        _reportRunning = true;
        _reportEndpoints.Clear();
        _regionsWithoutStun.Clear();
        foreach (var probe in _probes)
        {
            probe.Reset();
            Send(probe, now, output);
        }

        if (_probes.Length == 0)
        {
            FinishReport(now);
        }
    }

    private void Send(NetcheckProbe probe, long now, IPathOutput output)
    {
        Span<byte> txId = stackalloc byte[StunBindingRequest.TransactionIdLength];
        _random(txId);
        Span<byte> request = stackalloc byte[StunBindingRequest.Length];
        StunBindingRequest.Write(txId, request);
        probe.NoteSent(TransactionId.Read(txId), now);
        probe.RetransmitAt = now + RandomBetween(_timings.RetransmitMin, _timings.RetransmitMax);
        output.SendUdp(_targets[probe.TargetIndex].Address, request);
    }

    private bool AllProbesFinished()
    {
        foreach (var probe in _probes)
        {
            if (!probe.IsFinished)
            {
                return false;
            }
        }

        return true;
    }

    private void FinishReport(long now)
    {
        _reportRunning = false;
        _nextReportAt = now + RandomBetween(_timings.ReportIntervalMin, _timings.ReportIntervalMax);
        ReportCount++;

        var latencies = new Dictionary<int, TimeSpan>();
        foreach (var probe in _probes)
        {
            if (probe.Latency < 0)
            {
                continue;
            }

            int region = _targets[probe.TargetIndex].RegionId;
            var latency = TimeSpan.FromTicks(probe.Latency);
            if (!latencies.TryGetValue(region, out var known) || latency < known)
            {
                latencies[region] = latency;
            }
        }

        _regionLatencies = latencies;
        foreach (var (region, latency) in latencies)
        {
            AddHistory(region, now, latency.Ticks);
        }

        bool changed = false;
        if (_reportEndpoints.Count > 0)
        {
            PublicEndpointsAt = now;
            if (!SameEndpoints(_reportEndpoints, _publicEndpoints))
            {
                var endpoints = new IPEndPoint[_reportEndpoints.Count];
                for (int i = 0; i < endpoints.Length; i++)
                {
                    endpoints[i] = _reportEndpoints[i].ToIPEndPoint();
                }

                _publicEndpoints = endpoints;
                changed = true;
            }
        }

        int home = ChooseHome(latencies, now);
        if (home != HomeRegion)
        {
            HomeRegion = home;
            changed = true;
        }

        if (changed)
        {
            Version++;
        }

        foreach (var target in _targets)
        {
            if (!latencies.ContainsKey(target.RegionId) && !_regionsWithoutStun.Contains(target.RegionId))
            {
                _regionsWithoutStun.Add(target.RegionId);
            }
        }

        ReportFinished?.Invoke(now);
    }

    /// <summary>
    /// The HTTPS latency to a region's <c>/derp/latency-check</c> (derp.md §6.4), for a region the last report had no
    /// STUN answer from: it joins <see cref="RegionLatencies"/> and the latency history and may move the home (same
    /// score and hysteresis as STUN). Returns false (ignored) for regions not in <see cref="RegionsWithoutStun"/>,
    /// e.g. a late answer after the next report started. A home change is picked up at the next <see cref="Poll"/>,
    /// which <see cref="NextDeadline"/> makes due at once.
    /// </summary>
    public bool ReportHttpsLatency(int regionId, TimeSpan latency, long now)
    {
        if (latency < TimeSpan.Zero || !_regionsWithoutStun.Remove(regionId))
        {
            return false;
        }

        _regionLatencies = new Dictionary<int, TimeSpan>(_regionLatencies) { [regionId] = latency };
        AddHistory(regionId, now, latency.Ticks);
        int home = ChooseHome(_regionLatencies, now);
        if (home != HomeRegion)
        {
            HomeRegion = home;
            Version++;
            _changedOutsidePollAt = Math.Min(_changedOutsidePollAt, now);
        }

        return true;
    }

    /// <summary>
    /// derp.md §6.4: the lowest score (best latency over recent reports × the region's multiplier) among regions that
    /// answered now and may be home; keep the old home while it answers and the new best is less than 10 ms better or
    /// more than 2/3 of the old. Nothing answered: keep the old home, else the lowest region id that may be home.
    /// </summary>
    private int ChooseHome(Dictionary<int, TimeSpan> latencies, long now)
    {
        int best = 0;
        double bestScore = double.MaxValue;
        double oldScore = -1;
        foreach (var region in latencies.Keys)
        {
            if (!TryGetHomeTarget(region, out var target))
            {
                continue;
            }

            double score = BestRecent(region, now) * (target.ScoreMultiplier > 0 ? target.ScoreMultiplier : 1);
            if (region == HomeRegion)
            {
                oldScore = score;
            }

            if (score < bestScore || (score == bestScore && region < best))
            {
                bestScore = score;
                best = region;
            }
        }

        if (best == 0)
        {
            if (HomeRegion != 0)
            {
                return HomeRegion;
            }

            int lowest = 0;
            foreach (var target in _targets)
            {
                if (target.CanBeHome && (lowest == 0 || target.RegionId < lowest))
                {
                    lowest = target.RegionId;
                }
            }

            return lowest;
        }

        if (HomeRegion != 0 && best != HomeRegion && oldScore >= 0)
        {
            bool smallGain = oldScore - bestScore < _timings.HomeSwitchMinImprovement.Ticks;
            bool notMuchFaster = bestScore > oldScore * 2 / 3;
            if (smallGain || notMuchFaster)
            {
                return HomeRegion;
            }
        }

        return best;
    }

    private bool TryGetHomeTarget(int region, out StunTarget target)
    {
        foreach (var candidate in _targets)
        {
            if (candidate.RegionId == region && candidate.CanBeHome)
            {
                target = candidate;
                return true;
            }
        }

        target = default;
        return false;
    }

    private void AddHistory(int region, long now, long latency)
    {
        if (!_history.TryGetValue(region, out var entries))
        {
            entries = [];
            _history.Add(region, entries);
        }

        entries.Add((now, latency));
        entries.RemoveAll(e => now - e.At > _timings.LatencyRetention.Ticks);
        if (entries.Count > MaxHistoryPerRegion)
        {
            entries.RemoveRange(0, entries.Count - MaxHistoryPerRegion);
        }
    }

    private long BestRecent(int region, long now)
    {
        long best = long.MaxValue;
        foreach (var (at, latency) in _history[region])
        {
            if (now - at <= _timings.LatencyRetention.Ticks)
            {
                best = Math.Min(best, latency);
            }
        }

        return best;
    }

    private static bool SameEndpoints(List<UnderlayAddress> observed, IReadOnlyList<IPEndPoint> current)
    {
        if (observed.Count != current.Count)
        {
            return false;
        }

        foreach (var endpoint in current)
        {
            if (!observed.Contains(UnderlayAddress.FromIPEndPoint(endpoint)))
            {
                return false;
            }
        }

        return true;
    }

    private long RandomBetween(TimeSpan min, TimeSpan max)
    {
        Span<byte> bytes = stackalloc byte[4];
        _random(bytes);
        long span = Math.Max(0, max.Ticks - min.Ticks);
        return min.Ticks + (long)(BinaryPrimitives.ReadUInt32LittleEndian(bytes) / (double)uint.MaxValue * span);
    }
}
