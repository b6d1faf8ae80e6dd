using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TsNet.WireGuard.Crypto;

namespace TsNet.Benchmarks;

/// <summary>
/// Transport-data AEAD per backend and packet size: 64 B (small/ACK-sized), 1420 B (MTU-sized WireGuard
/// payload), 8192 B (large, where per-call overhead no longer matters). Run through run-aead-bench.sh so the
/// figures sit next to <c>openssl speed</c> from the same run.
/// </summary>
[Config(typeof(Config))]
[SimpleJob(warmupCount: 3, iterationCount: 8)]
[MemoryDiagnoser]
public class TransportCipherBenchmarks
{
    private TransportCipher _cipher = null!;
    private byte[] _data = null!;
    private byte[] _sealed = null!;
    private readonly byte[] _tag = new byte[TransportCipher.TagSize];
    private readonly byte[] _sealedTag = new byte[TransportCipher.TagSize];
    private ulong _counter;

    // Names rather than the enum: the enum is internal and BenchmarkDotNet parameters must be public.
    // "OpenSslPrevious" is the libcrypto path before issue 13's per-call work, for a before/after in one run.
    [Params("OpenSslPrevious", "OpenSsl", "Bcl", "BouncyCastle")]
    public string Backend { get; set; } = "OpenSsl";

    [Params(64, 1420, 8192)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        byte[] key = new byte[TransportCipher.KeySize];
        Random.Shared.NextBytes(key);
        _cipher = Backend == "OpenSslPrevious"
            ? new Crypto.PreviousOpenSslTransportCipher(key)
            : TransportCipher.Create(key, Enum.Parse<TransportCipherBackend>(Backend));
        _data = new byte[Size];
        Random.Shared.NextBytes(_data);
        _sealed = (byte[])_data.Clone();
        _cipher.Seal(0, _sealed, _sealedTag);
        _counter = 1;
    }

    [GlobalCleanup]
    public void Cleanup() => _cipher.Dispose();

    /// <summary>Encrypts in place under a fresh counter each call, as the send path does.</summary>
    [Benchmark]
    public void Seal() => _cipher.Seal(_counter++, _data, _tag);

    /// <summary>Restores the sealed packet (a memcpy of Size bytes, included) and decrypts it in place.</summary>
    [Benchmark]
    public bool Open()
    {
        _sealed.CopyTo(_data, 0);
        return _cipher.Open(0, _data, _sealedTag);
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(new ThroughputColumn());
        }
    }
}
