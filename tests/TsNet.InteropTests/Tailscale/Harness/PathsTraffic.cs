using System.Diagnostics;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>Traffic probes of the paths tests: "does a small transfer work yet", measured.</summary>
public static class PathsTraffic
{
    /// <summary>Issue 12: a DERP-only pair carries traffic again within this long after derper restarted.</summary>
    public static readonly TimeSpan DerpRecoveryBound = TimeSpan.FromSeconds(15);

    /// <summary>Bytes of one probe download.</summary>
    public const long ProbeBytes = 100_000;

    // One probe's bound: long enough for a working path on a loaded machine, short enough to measure recovery finely.
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Repeats a small byte-exact download (each bounded to 3 s) until one succeeds; returns how long that took from
    /// the call. Throws when none succeeded within <paramref name="timeout"/>.
    /// </summary>
    public static async Task<TimeSpan> WaitForSmallDownloadAsync(SocksHttpClient curl, string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(curl);
        var clock = Stopwatch.StartNew();
        var attempts = 0;
        string last = "none";
        while (clock.Elapsed < timeout)
        {
            attempts++;
            var probe = await curl.DownloadAsync(host, port, ProbeBytes, (ulong)(1000 + attempts), ProbeTimeout, cancellationToken: cancellationToken);
            if (probe.ByteExact)
            {
                return clock.Elapsed;
            }

            last = probe.Describe();

            // A probe that failed at once (connection refused) must not spin; bounded by the timeout.
            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException($"no byte-exact {ProbeBytes}-byte download from {host}:{port} within {timeout.TotalSeconds:0} s ({attempts} attempts); last: {last}");
    }
}
