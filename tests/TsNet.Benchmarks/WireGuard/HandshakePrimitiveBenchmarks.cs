using BenchmarkDotNet.Attributes;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;

namespace TsNet.Benchmarks.WireGuard;

/// <summary>
/// The non-DH parts of a full handshake, one call each, to see where the time between the eight X25519s goes.
/// Counts per full handshake (both sides, from NoiseProtocol and the endpoint): 14 MixHash (BLAKE2s of 64 bytes),
/// 8 KDF1, 6 KDF2, 2 KDF3, 6 handshake AEAD calls (4 of 0–32 bytes, 2 of 12), 2 mac1 writes and 2 mac1 checks,
/// 4 transport ciphers created (two keypairs) and disposed.
/// </summary>
[MemoryDiagnoser]
public class HandshakePrimitiveBenchmarks
{
    private readonly byte[] _key = new byte[32];
    private readonly byte[] _input = new byte[32];
    private readonly byte[] _t1 = new byte[32];
    private readonly byte[] _t2 = new byte[32];
    private readonly byte[] _t3 = new byte[32];
    private readonly byte[] _sealed = new byte[48];
    private readonly byte[] _message = new byte[MessageLayout.InitiationSize];
    private CookieGenerator _generator = null!;
    private CookieChecker _checker = null!;

    [GlobalSetup]
    public void Setup()
    {
        Random.Shared.NextBytes(_key);
        Random.Shared.NextBytes(_input);
        Random.Shared.NextBytes(_message);
        _generator = new CookieGenerator(_key);
        _checker = new CookieChecker(_key);
        _generator.AddMacs(_message, 0, TimeSpan.FromMinutes(2));
    }

    [Benchmark(Description = "MixHash (BLAKE2s, 64 B)")]
    public byte[] MixHash()
    {
        Blake2s.Hash(_key, _input, _t1);
        return _t1;
    }

    [Benchmark(Description = "MixHash, previous Vector128 engine")]
    public byte[] MixHashPreviousEngine()
    {
        var engine = new Crypto.PreviousBlake2sEngine(Blake2s.HashSize);
        engine.Update(_key);
        engine.Update(_input);
        engine.Finish(_t1);
        return _t1;
    }

    [Benchmark(Description = "KDF1")]
    public byte[] Kdf1()
    {
        NoiseKdf.Kdf1(_key, _input, _t1);
        return _t1;
    }

    [Benchmark(Description = "KDF2")]
    public byte[] Kdf2()
    {
        NoiseKdf.Kdf2(_key, _input, _t1, _t2);
        return _t1;
    }

    [Benchmark(Description = "KDF3")]
    public byte[] Kdf3()
    {
        NoiseKdf.Kdf3(_key, _input, _t1, _t2, _t3);
        return _t1;
    }

    [Benchmark(Description = "AEAD seal 32 B (handshake)")]
    public byte[] HandshakeSeal()
    {
        ChaCha20Poly1305Aead.Seal(_key, 0, _input, _t1, _sealed);
        return _sealed;
    }

    [Benchmark(Description = "mac1 write")]
    public byte[] AddMacs()
    {
        _generator.AddMacs(_message, 0, TimeSpan.FromMinutes(2));
        return _message;
    }

    [Benchmark(Description = "mac1 check")]
    public bool CheckMac1() => _checker.CheckMac1(_message);

    [Benchmark(Description = "transport cipher create + dispose")]
    public void TransportCipherLifetime() => TransportCipher.Create(_key).Dispose();
}
