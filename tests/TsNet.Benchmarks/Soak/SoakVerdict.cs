using System.Globalization;

namespace TsNet.Benchmarks.Soak;

/// <summary>
/// The end-of-run judgement, each check printed with its figures and tolerance: no unexpected stream failure and no
/// damaged byte; UDP loss plausible for the injected rate; memory, threads and descriptors flat from the warm-up sample
/// to the end; descriptors back to the pre-start level once the nodes are disposed.
/// </summary>
internal static class SoakVerdict
{
    /// <summary>Working set and live GC bytes may grow this much (fraction of the warm-up value) plus the fixed slack below.</summary>
    public const double MemoryGrowthFraction = 0.20;

    public const long WorkingSetSlackBytes = 32L * 1024 * 1024;

    public const long GcLiveSlackBytes = 16L * 1024 * 1024;

    /// <summary>Thread pool threads come and go with load; more than this many new ones is a leak.</summary>
    public const int ThreadSlack = 8;

    public const int HandleSlack = 4;

    /// <summary>Standard deviations the measured UDP loss may stray from the injected rate's expectation.</summary>
    public const double LossSigmas = 4;

    /// <summary>Prints every check; returns true when all pass.</summary>
    public static bool Judge(SoakOptions options, StreamOutcomes streams, UdpEchoCounts udp, ResourceSample beforeNodes, ResourceSample warmUp, ResourceSample end, ResourceSample afterDispose, TextWriter output)
    {
        var pass = true;
        void Check(bool ok, string text)
        {
            pass &= ok;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[soak] verdict {(ok ? "PASS" : "FAIL")} {text}"));
        }

        Check(streams.FailedUnexpected == 0 && streams.Ok > 0,
            $"streams: ok={streams.Ok} failed={streams.FailedUnexpected} (unexpected) churn-expected-failures={streams.FailedExpected} cut-at-deadline={streams.Cut}; bytes verified={streams.BytesVerified} ({streams.BytesVerified / 1073741824.0:0.00} GiB)");
        foreach (var (reason, count) in streams.UnexpectedReasons.OrderByDescending(r => r.Value))
        {
            output.WriteLine($"[soak]   unexpected failure ×{count}: {reason}");
        }

        foreach (var (reason, count) in streams.ExpectedReasons.OrderByDescending(r => r.Value))
        {
            output.WriteLine($"[soak]   churn-expected failure ×{count}: {reason}");
        }

        foreach (var (reason, count) in streams.ServerSideReasons.OrderByDescending(r => r.Value))
        {
            output.WriteLine($"[soak]   accepting side saw ×{count}: {reason}");
        }

        // A datagram and its echo each cross one lossy layer (the sender's, then the echoing node's).
        var expectedRate = 1 - ((1 - options.Loss) * (1 - options.Loss));
        var expected = udp.Judged * expectedRate;
        var sigma = Math.Sqrt(udp.Judged * expectedRate * (1 - expectedRate));
        var measuredRate = udp.Judged == 0 ? 0 : udp.Lost / (double)udp.Judged;
        Check(udp.Judged > 0 && Math.Abs(udp.Lost - expected) <= (LossSigmas * sigma) + 5 && udp.Corrupt == 0 && udp.Refused == 0,
            $"udp: sent={udp.Sent} echoed={udp.Echoed} lost={udp.Lost} of {udp.Judged} judged ({measuredRate:P2}; injected round trip {expectedRate:P2}, ±{LossSigmas}σ = ±{LossSigmas * sigma / Math.Max(1, udp.Judged):P2}) churn-window-lost={udp.LostChurn} refused={udp.Refused} corrupt={udp.Corrupt} late={udp.Late}");

        Check(end.WorkingSet <= Allowed(warmUp.WorkingSet, WorkingSetSlackBytes),
            $"working set flat: warm-up {ResourceSample.Mib(warmUp.WorkingSet)} → end {ResourceSample.Mib(end.WorkingSet)} (tolerance +{MemoryGrowthFraction:P0} + {ResourceSample.Mib(WorkingSetSlackBytes)})");
        Check(end.GcLive <= Allowed(warmUp.GcLive, GcLiveSlackBytes),
            $"GC live bytes flat: warm-up {ResourceSample.Mib(warmUp.GcLive)} → end {ResourceSample.Mib(end.GcLive)} (tolerance +{MemoryGrowthFraction:P0} + {ResourceSample.Mib(GcLiveSlackBytes)})");
        Check(end.Threads <= warmUp.Threads + ThreadSlack,
            $"threads flat: warm-up {warmUp.Threads} → end {end.Threads} (tolerance +{ThreadSlack})");
        Check(end.Handles <= warmUp.Handles + HandleSlack,
            $"descriptors flat: warm-up {warmUp.Handles} → end {end.Handles} (tolerance +{HandleSlack})");
        Check(afterDispose.NonLibraryHandles <= beforeNodes.NonLibraryHandles + HandleSlack,
            $"descriptors released: before the nodes {beforeNodes.NonLibraryHandles} → after disposing them {afterDispose.NonLibraryHandles}, not counting loaded libraries (tolerance +{HandleSlack}); " +
            $"threads {beforeNodes.Threads} → {afterDispose.Threads} (thread pool {beforeNodes.PoolThreads} → {afterDispose.PoolThreads}), GC live {ResourceSample.Mib(beforeNodes.GcLive)} → {ResourceSample.Mib(afterDispose.GcLive)} (ArrayPool.Shared keeps returned arrays)");
        output.WriteLine($"[soak] verdict: {(pass ? "PASS" : "FAIL")}");
        return pass;
    }

    private static long Allowed(long baseline, long slack) => (long)(baseline * (1 + MemoryGrowthFraction)) + slack;
}
