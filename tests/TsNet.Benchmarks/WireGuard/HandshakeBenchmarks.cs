using BenchmarkDotNet.Attributes;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;

namespace TsNet.Benchmarks.WireGuard;

/// <summary>
/// Full handshakes per second on one core: initiation created (A), consumed and answered (B), response consumed
/// and keys derived (A) — through the real endpoint code (mac1 checks, index table, keypair rotation). Per X25519
/// backend: eight scalar multiplications per handshake (static-static is precomputed per peer): six variable-base
/// DHs on the backend and the two ephemeral public keys by the fixed-base table on either backend.
/// </summary>
[MemoryDiagnoser]
public class HandshakeBenchmarks
{
    private readonly PacketBufferPool _pool = new();
    private WireGuardEndpoint _a = null!;
    private WireGuardEndpoint _b = null!;
    private WireGuardPeer _peerAtA = null!;
    private LastDatagramOutput _outputA = null!;
    private LastDatagramOutput _outputB = null!;
    private long _now = TimeSpan.FromHours(1).Ticks;
    private UnderlayAddress _addressA;
    private UnderlayAddress _addressB;

    // Names rather than the enum: the enum is internal and BenchmarkDotNet parameters must be public.
    [Params("Managed", "OpenSsl")]
    public string X25519Backend { get; set; } = "OpenSsl";

    [GlobalSetup]
    public void Setup()
    {
        // Each case runs in its own process, so switching the process-wide default here is safe.
        X25519.Backend = Enum.Parse<TsNet.WireGuard.Crypto.X25519Backend>(X25519Backend);
        // No flood spacing: the benchmark sends initiations back to back on purpose.
        var timers = WireGuardTimerSettings.Default with { HandshakeInitiationRate = TimeSpan.Zero };
        _a = new WireGuardEndpoint(new WireGuardEndpointOptions { PrivateKey = NewKey(), Pool = _pool, Timers = timers });
        _b = new WireGuardEndpoint(new WireGuardEndpointOptions { PrivateKey = NewKey(), Pool = _pool, Timers = timers });
        _addressA = UnderlayAddress.FromIPv4([127, 0, 0, 1], 1);
        _addressB = UnderlayAddress.FromIPv4([127, 0, 0, 1], 2);
        _peerAtA = _a.AddPeer(_b.PublicKey);
        _b.AddPeer(_a.PublicKey);
        _a.ConfigureEndpoint(_peerAtA, _addressB);
        _outputA = new LastDatagramOutput();
        _outputB = new LastDatagramOutput();
    }

    [Benchmark(Description = "initiation + response + consume")]
    public void FullHandshake()
    {
        // Step past the REKEY_TIMEOUT initiation throttle each round.
        _now += TimeSpan.FromSeconds(6).Ticks;
        _a.InitiateHandshake(_peerAtA, _now, _outputA);
        _b.ReceiveDatagram(_outputA.Take(), _addressA, _now, 0, _outputB);
        _a.ReceiveDatagram(_outputB.Take(), _addressB, _now, 0, _outputA);
        _outputA.Clear();
        if (_peerAtA.Current is null)
        {
            throw new InvalidOperationException("Handshake did not complete.");
        }
    }

    private static byte[] NewKey()
    {
        var key = new byte[32];
        X25519.GeneratePrivateKey(key);
        return key;
    }
}
