using TsNet.Control.Protocol;

namespace TsNet.Control.Netmap;

/// <summary>
/// Folds a DERP map update into the current one (protocol doc §9.3, Go's <c>TestDeltaDERPMap</c>): <c>Regions</c>
/// null keeps the regions (and <c>omitDefaultRegions</c>); <c>HomeParams</c> null keeps them, <c>RegionScore</c>
/// null keeps the scores and <c>{}</c> empties them; a region whose value is null is dropped.
/// </summary>
internal static class DerpMapMerger
{
    /// <summary>The effective map after <paramref name="update"/> (null update = unchanged).</summary>
    public static DERPMap? Merge(DERPMap? current, DERPMap? update)
    {
        if (update is null)
        {
            return current;
        }

        var regions = current?.Regions;
        var omitDefault = current?.OmitDefaultRegions ?? false;
        if (update.Regions is not null)
        {
            var kept = new Dictionary<int, DERPRegion?>(update.Regions.Count);
            foreach (var (id, region) in update.Regions)
            {
                if (region is not null)
                {
                    kept[id] = region;
                }
            }

            regions = kept;
            omitDefault = update.OmitDefaultRegions;
        }

        var homeParams = current?.HomeParams;
        if (update.HomeParams is { } newParams)
        {
            homeParams = newParams.RegionScore is null
                ? (homeParams ?? new DERPHomeParams())
                : newParams;
        }

        return new DERPMap { Regions = regions, HomeParams = homeParams, OmitDefaultRegions = omitDefault };
    }
}
