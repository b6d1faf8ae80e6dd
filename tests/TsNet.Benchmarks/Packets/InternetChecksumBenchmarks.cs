using BenchmarkDotNet.Attributes;
using TsNet.Packets;

namespace TsNet.Benchmarks.Packets;

/// <summary>Internet checksum over typical packet sizes, per implementation.</summary>
[MemoryDiagnoser]
public class InternetChecksumBenchmarks
{
    private byte[] _data = [];

    [Params(40, 576, 1280, 1500)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Length];
        new Random(42).NextBytes(_data);
    }

    [Benchmark(Baseline = true)]
    public ulong Scalar() => InternetChecksum.AccumulateScalar(_data, 0);

    [Benchmark]
    public ulong Vector128() => InternetChecksum.AccumulateVector128(_data, 0);

    [Benchmark]
    public ulong Vector256() => InternetChecksum.AccumulateVector256(_data, 0);
}
