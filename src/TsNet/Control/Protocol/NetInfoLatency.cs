using System.Globalization;

namespace TsNet.Control.Protocol;

/// <summary>
/// <c>NetInfo.DERPLatency</c>'s wire form (protocol doc §8.5): one entry per region, keyed <c>"&lt;region&gt;-v4"</c>
/// (netcheck probes over IPv4), the latency in seconds.
/// </summary>
internal static class NetInfoLatency
{
    /// <summary>At most this many regions are reported (a DERP map is bounded the same way; this keeps a request small).</summary>
    public const int MaxRegions = 64;

    /// <summary>The wire map of <paramref name="latencies"/> (region → latency), in region order, positive latencies only.</summary>
    public static IReadOnlyDictionary<string, double> ToWire(IReadOnlyDictionary<int, TimeSpan> latencies)
    {
        ArgumentNullException.ThrowIfNull(latencies);
        var wire = new SortedDictionary<string, double>(StringComparer.Ordinal);
        var regions = new int[latencies.Count];
        int count = 0;
        foreach (var region in latencies.Keys)
        {
            regions[count++] = region;
        }

        Array.Sort(regions);
        foreach (var region in regions)
        {
            if (wire.Count == MaxRegions)
            {
                break;
            }

            var latency = latencies[region];
            if (region > 0 && latency > TimeSpan.Zero)
            {
                wire[region.ToString(CultureInfo.InvariantCulture) + "-v4"] = latency.TotalSeconds;
            }
        }

        return wire;
    }
}
