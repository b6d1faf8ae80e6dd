using TsNet.Control.Netmap;
using TsNet.Control.Protocol;

namespace TsNet.Tests.Control.Netmap;

/// <summary>Go's <c>TestDeltaDERPMap</c> step sequences (fixtures A.6).</summary>
public sealed class DerpMapMergerTests
{
    private static DERPMap Regions(string ipv4) => new()
    {
        Regions = new Dictionary<int, DERPRegion?>
        {
            [1] = new DERPRegion
            {
                RegionID = 1,
                Nodes = [new DERPNode { Name = "derp1a", RegionID = 1, HostName = "derp1a.invalid", IPv4 = ipv4, IPv6 = "none" }],
            },
        },
    };

    private static DERPMap Score(Dictionary<int, double>? scores) => new() { HomeParams = new DERPHomeParams { RegionScore = scores } };

    [Fact]
    public void NilThenNil_StaysNil()
    {
        DerpMapMerger.Merge(DerpMapMerger.Merge(null, null), null).Should().BeNull();
    }

    [Fact]
    public void RegionsAreSticky()
    {
        var first = DerpMapMerger.Merge(null, Regions("169.254.169.254"));
        var second = DerpMapMerger.Merge(first, new DERPMap());

        second!.Regions![1]!.Nodes![0].IPv4.Should().Be("169.254.169.254");
    }

    [Fact]
    public void NewRegions_Replace()
    {
        var merged = DerpMapMerger.Merge(DerpMapMerger.Merge(null, Regions("169.254.169.254")), Regions("127.0.0.1"));

        merged!.Regions![1]!.Nodes![0].IPv4.Should().Be("127.0.0.1");
    }

    [Fact]
    public void HomeParamsAlone_KeepRegions()
    {
        var merged = DerpMapMerger.Merge(DerpMapMerger.Merge(null, Regions("169.254.169.254")), Score(new() { [1] = 0.5 }));

        merged!.Regions.Should().ContainKey(1);
        merged.HomeParams!.RegionScore.Should().Equal(new Dictionary<int, double> { [1] = 0.5 });
    }

    [Fact]
    public void NullScores_KeepScores_EmptyScores_Reset()
    {
        var start = Regions("169.254.169.254") with { HomeParams = new DERPHomeParams { RegionScore = new Dictionary<int, double> { [1] = 0.5 } } };
        var first = DerpMapMerger.Merge(null, start);

        var kept = DerpMapMerger.Merge(first, Score(null));
        kept!.HomeParams!.RegionScore.Should().Equal(new Dictionary<int, double> { [1] = 0.5 });

        var reset = DerpMapMerger.Merge(kept, Score([]));
        reset!.HomeParams!.RegionScore.Should().BeEmpty();
        reset.Regions.Should().ContainKey(1);
    }

    [Fact]
    public void NullRegion_IsDropped()
    {
        var merged = DerpMapMerger.Merge(null, new DERPMap { Regions = new Dictionary<int, DERPRegion?> { [999] = null, [1] = new DERPRegion { RegionID = 1 } } });

        merged!.Regions!.Keys.Should().Equal(1);
    }
}
