using TsNet.Benchmarks.Fuzz;
using TsNet.Benchmarks.Fuzz.Targets;

namespace TsNet.Tests.Fuzz;

/// <summary>The fuzz command's inputs are a function of (seed, index): a run can resume and a finding reproduces.</summary>
public sealed class FuzzGeneratorTests
{
    [Fact]
    public void SameSeedAndIndex_GiveTheSameBytes_FromFreshTargets()
    {
        // Two instances of each target whose corpus is built from fixed keys and fixtures.
        // (Not wireguard: its corpus holds ciphertexts under the endpoints' random ephemerals; socks5 opens a listener.)
        static IFuzzTarget[] Targets() =>
        [
            new PacketViewsTarget(), new StunFuzzTarget(), new DerpFramesTarget(), new RelayFuzzTarget(), new DiscoPathTarget(),
            new TcpCoreTarget(), new NetstackTarget(), new ControlMapTarget(), new ControlNoiseTarget(), new ControlJsonTarget(),
        ];

        var first = Targets();
        var second = Targets();
        for (var t = 0; t < first.Length; t++)
        {
            for (long index = 0; index < 500; index++)
            {
                var a = FuzzMutator.Generate(20261207, index, first[t].Corpus, first[t].MaxInputLength);
                var b = FuzzMutator.Generate(20261207, index, second[t].Corpus, second[t].MaxInputLength);
                b.Should().Equal(a, $"target {first[t].GetType().Name}, index {index}");
            }
        }
    }

    [Fact]
    public void DifferentIndexOrSeed_GiveDifferentInputs()
    {
        var corpus = PacketCorpus.All;
        var inputs = Enumerable.Range(0, 1000).Select(i => Convert.ToHexString(FuzzMutator.Generate(1, i, corpus, 1500))).ToList();
        inputs.Distinct().Count().Should().BeGreaterThan(900, "mutations rarely coincide");
        var otherSeed = Enumerable.Range(0, 1000).Select(i => Convert.ToHexString(FuzzMutator.Generate(2, i, corpus, 1500))).ToList();
        inputs.Zip(otherSeed).Count(p => p.First == p.Second).Should().BeLessThan(50);
        inputs.Should().Contain(hex => corpus.Any(c => Convert.ToHexString(c) == hex), "verbatim replays are part of the mix");
    }

    [Fact]
    public void Generate_HonorsMaxLength_AndPerInputRandomIsIndependentOfOrder()
    {
        for (long index = 0; index < 2000; index++)
        {
            FuzzMutator.Generate(5, index, PacketCorpus.All, 64).Length.Should().BeLessThanOrEqualTo(64);
        }

        // Generating index 7 directly or after 0..6 gives the same bytes: nothing carries over between inputs.
        var direct = FuzzMutator.Generate(9, 7, PacketCorpus.All, 1500);
        for (long index = 0; index < 7; index++)
        {
            FuzzMutator.Generate(9, index, PacketCorpus.All, 1500);
        }

        FuzzMutator.Generate(9, 7, PacketCorpus.All, 1500).Should().Equal(direct);
        FuzzRandom.ForInput(9, 7).NextUInt64().Should().Be(FuzzRandom.ForInput(9, 7).NextUInt64());
    }
}
