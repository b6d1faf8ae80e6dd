using System.Diagnostics;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;

namespace TsNet.Benchmarks.Crypto;

/// <summary>
/// <c>crypto-cpu [--rounds N] [--filter TEXT]</c>: handshakes, X25519 and the 1420-byte transport AEAD timed in this thread's CPU
/// time (CLOCK_THREAD_CPUTIME_ID), before and after each lever in alternating rounds. CPU time, like
/// <c>openssl speed</c>'s default divisor (user CPU time), does not stretch when other processes share the cores,
/// so the figures compare with openssl's even on a busy machine; wall-clock BenchmarkDotNet figures do not.
/// Linux only (clock_gettime).
/// </summary>
internal static class CryptoCpuCommand
{
    private const int PacketSize = 1420;

    public static int Run(string[] args)
    {
        int rounds = 5;
        string? filter = null;
        for (int a = 0; a + 1 < args.Length; a += 2)
        {
            if (args[a] == "--rounds")
            {
                rounds = int.Parse(args[a + 1], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (args[a] == "--filter")
            {
                filter = args[a + 1];
            }
        }

        Console.WriteLine($"crypto-cpu: {rounds} alternating rounds, CPU time of this thread; load {File.ReadAllText("/proc/loadavg").Trim()}");
        string blake2sPath = System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported ? "AVX2 schedule, AVX-512VL rotations"
            : System.Runtime.Intrinsics.X86.Avx2.IsSupported ? "AVX2 schedule" : "portable Vector128";
        Console.WriteLine($"BLAKE2s compression: {blake2sPath}");

        var handshakes = new Dictionary<string, HandshakePair>
        {
            ["handshake, managed X25519"] = new(X25519Backend.Managed),
            ["handshake, libcrypto X25519"] = new(X25519Backend.OpenSsl),
        };
        byte[] privateKey = new byte[32], publicKey = new byte[32], output = new byte[32];
        X25519.GeneratePrivateKey(privateKey);
        X25519.DerivePublicKey(privateKey, publicKey);
        using var staticKey = new X25519StaticKey(privateKey, X25519Backend.OpenSsl);
        byte[] key = new byte[32];
        Random.Shared.NextBytes(key);
        using var previous = new PreviousOpenSslTransportCipher(key);
        using var current = TransportCipher.Create(key, TransportCipherBackend.OpenSsl);
        byte[] packet = new byte[PacketSize], tag = new byte[16], sealedPacket = new byte[PacketSize], sealedTag = new byte[16];
        current.Seal(0, sealedPacket, sealedTag);
        ulong counter = 1;

        var cases = new List<(string Name, int Ops, Action<int> Body)>();
        foreach (var (name, pair) in handshakes)
        {
            cases.Add((name, 200, n => pair.Run(n)));
        }

        byte[] kdfKey = new byte[32], t1 = new byte[32], t2 = new byte[32], t3 = new byte[32];
        Random.Shared.NextBytes(kdfKey);
        cases.Add(("BLAKE2s 64 B previous", 20_000, n => { for (int i = 0; i < n; i++) { PreviousNoiseKdf.Hash(kdfKey, t1, t2); } }));
        cases.Add(("BLAKE2s 64 B", 20_000, n => { for (int i = 0; i < n; i++) { Blake2s.Hash(kdfKey, t1, t2); } }));
        cases.Add(("KDF1 previous", 5_000, n => { for (int i = 0; i < n; i++) { PreviousNoiseKdf.Kdf(kdfKey, t1, 1, t2, [], []); } }));
        cases.Add(("KDF1", 5_000, n => { for (int i = 0; i < n; i++) { NoiseKdf.Kdf1(kdfKey, t1, t2); } }));
        cases.Add(("KDF2 previous", 5_000, n => { for (int i = 0; i < n; i++) { PreviousNoiseKdf.Kdf(kdfKey, t1, 2, t2, t3, []); } }));
        cases.Add(("KDF2", 5_000, n => { for (int i = 0; i < n; i++) { NoiseKdf.Kdf2(kdfKey, t1, t2, t3); } }));
        cases.Add(("KDF3 previous", 5_000, n => { for (int i = 0; i < n; i++) { PreviousNoiseKdf.Kdf(kdfKey, t1, 3, t2, t3, kdfKey); } }));
        cases.Add(("KDF3", 5_000, n => { for (int i = 0; i < n; i++) { NoiseKdf.Kdf3(kdfKey, t1, t2, t3, kdfKey); } }));
        byte[] aeadSealed = new byte[48];
        ChaCha20Poly1305Aead.Seal(kdfKey, 0, t1, t2, aeadSealed);
        byte[] nonce = new byte[12];
        cases.Add(("handshake AEAD seal 32 B previous", 20_000, n => { for (int i = 0; i < n; i++) { PreviousOpenSslHandshakeAead.Seal(kdfKey, nonce, t1, t2, aeadSealed); } }));
        cases.Add(("handshake AEAD seal 32 B", 20_000, n => { for (int i = 0; i < n; i++) { ChaCha20Poly1305Aead.Seal(kdfKey, 0, t1, t2, aeadSealed); } }));
        cases.Add(("handshake AEAD open 32 B previous", 20_000, n => { for (int i = 0; i < n; i++) { PreviousOpenSslHandshakeAead.Open(kdfKey, nonce, aeadSealed, t2, t3); } }));
        cases.Add(("handshake AEAD open 32 B", 20_000, n => { for (int i = 0; i < n; i++) { ChaCha20Poly1305Aead.Open(kdfKey, 0, aeadSealed, t2, t3); } }));
        cases.Add(("transport cipher create+dispose", 5_000, n => { for (int i = 0; i < n; i++) { TransportCipher.Create(kdfKey).Dispose(); } }));
        cases.Add(("X25519 managed", 500, n => { for (int i = 0; i < n; i++) { X25519.TrySharedSecret(privateKey, publicKey, output, X25519Backend.Managed); } }));
        cases.Add(("X25519 libcrypto one-shot", 500, n => { for (int i = 0; i < n; i++) { X25519.TrySharedSecret(privateKey, publicKey, output, X25519Backend.OpenSsl); } }));
        cases.Add(("X25519 libcrypto static key", 500, n => { for (int i = 0; i < n; i++) { staticKey.TrySharedSecret(publicKey, output); } }));
        byte[] otherPublic = new byte[32];
        X25519.DerivePublicKey(kdfKey, otherPublic);
        // A responder's ephemeral key (public key, DH with E_i, DH with S_i): as it was (libcrypto DH with u = 9, two
        // one-shot DHs each importing the key), then as now (fixed-base public key, one import for both DHs).
        cases.Add(("e_r: public + 2 DH previous", 200, n =>
        {
            X25519.Backend = X25519Backend.OpenSsl;
            for (int i = 0; i < n; i++)
            {
                X25519.DerivePublicKey(privateKey, output, X25519Backend.OpenSsl);
                X25519.TrySharedSecret(privateKey, publicKey, output);
                X25519.TrySharedSecret(privateKey, otherPublic, output);
            }

            X25519.Backend = X25519.AutoBackend;
        }));
        cases.Add(("e_r: public + 2 DH", 200, n =>
        {
            X25519.Backend = X25519Backend.OpenSsl;
            for (int i = 0; i < n; i++)
            {
                var ephemeral = new X25519EphemeralKey(privateKey);
                ephemeral.DerivePublicKey(output);
                ephemeral.TrySharedSecret(publicKey, output);
                ephemeral.TrySharedSecret(otherPublic, output);
                ephemeral.Dispose();
            }

            X25519.Backend = X25519.AutoBackend;
        }));
        cases.Add(("X25519 public key managed", 500, n => { for (int i = 0; i < n; i++) { X25519.DerivePublicKey(privateKey, output, X25519Backend.Managed); } }));
        cases.Add(("X25519 public key libcrypto", 500, n => { for (int i = 0; i < n; i++) { X25519.DerivePublicKey(privateKey, output, X25519Backend.OpenSsl); } }));
        cases.Add(("X25519 public key fixed-base managed", 500, n => { for (int i = 0; i < n; i++) { X25519FixedBase.DerivePublicKey(privateKey, output); } }));
        cases.Add(("X25519 public key libcrypto raw", 500, n => { for (int i = 0; i < n; i++) { LibCryptoFixedBase.DerivePublicKey(privateKey, output); } }));
        cases.Add(("seal 1420 B previous", 200_000, n => { for (int i = 0; i < n; i++) { previous.Seal(counter++, packet, tag); } }));
        cases.Add(("seal 1420 B", 200_000, n => { for (int i = 0; i < n; i++) { current.Seal(counter++, packet, tag); } }));
        cases.Add(("open 1420 B previous", 200_000, n => { for (int i = 0; i < n; i++) { sealedPacket.CopyTo(packet, 0); previous.Open(0, packet, sealedTag); } }));
        cases.Add(("open 1420 B", 200_000, n => { for (int i = 0; i < n; i++) { sealedPacket.CopyTo(packet, 0); current.Open(0, packet, sealedTag); } }));
        cases.Add(("memcpy 1420 B (part of open)", 200_000, n => { for (int i = 0; i < n; i++) { sealedPacket.CopyTo(packet, 0); } }));

        if (filter is not null)
        {
            // --filter TEXT keeps the cases whose name contains TEXT (e.g. to profile one of them with perf).
            cases.RemoveAll(c => !c.Name.Contains(filter, StringComparison.Ordinal));
        }

        foreach (var (_, ops, body) in cases)
        {
            body(Math.Max(1, ops / 10)); // warm-up: JIT tiers, per-thread contexts
        }

        var best = new double[cases.Count];
        Array.Fill(best, double.MaxValue);
        var allocated = new long[cases.Count];
        for (int round = 0; round < rounds; round++)
        {
            for (int c = 0; c < cases.Count; c++)
            {
                var (_, ops, body) = cases[c];
                long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                double start = ThreadCpuClock.Seconds();
                body(ops);
                double perOp = (ThreadCpuClock.Seconds() - start) / ops;
                allocated[c] = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / ops;
                best[c] = Math.Min(best[c], perOp);
            }
        }

        Console.WriteLine("case                               CPU per op (best round)   rate              allocated/op");
        for (int c = 0; c < cases.Count; c++)
        {
            var (name, _, _) = cases[c];
            string rate = name.StartsWith("seal", StringComparison.Ordinal) || name.StartsWith("open", StringComparison.Ordinal) || name.StartsWith("memcpy", StringComparison.Ordinal)
                ? $"{PacketSize / best[c] / 1e9:F3} GB/s"
                : $"{1 / best[c]:F0} /s";
            Console.WriteLine($"{name,-34} {best[c] * 1e6,12:F3} us   {rate,18}   {allocated[c],6} B");
        }

        const string SidesName = "handshake per side";
        if (filter is null || SidesName.Contains(filter, StringComparison.Ordinal))
        {
            RunSides(rounds);
        }

        Console.WriteLine($"load {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    // The per-side figures (HandshakeSides): best round of each side, over rounds of 4 batches of 64 initiators.
    private static void RunSides(int rounds)
    {
        const int Batches = 4;
        var sides = new HandshakeSides(initiators: 64);
        sides.Run(1, ThreadCpuClock.Seconds); // warm-up
        double bestInitiator = double.MaxValue, bestResponder = double.MaxValue;
        HandshakeSides.SideCosts last = default;
        for (int round = 0; round < rounds; round++)
        {
            last = sides.Run(Batches, ThreadCpuClock.Seconds);
            bestInitiator = Math.Min(bestInitiator, last.InitiatorSeconds / (Batches * sides.Initiators));
            bestResponder = Math.Min(bestResponder, last.ResponderSeconds / (Batches * sides.Initiators));
        }

        int handshakes = Batches * sides.Initiators;
        Console.WriteLine($"handshake per side, {sides.Initiators} initiators to one responder (best round of {handshakes}):");
        Console.WriteLine($"{"  initiator (create + consume)",-34} {bestInitiator * 1e6,12:F3} us   {1 / bestInitiator,16:F0} /s   {last.InitiatorBytes / handshakes,6} B");
        Console.WriteLine($"{"  responder (consume + create)",-34} {bestResponder * 1e6,12:F3} us   {1 / bestResponder,16:F0} /s   {last.ResponderBytes / handshakes,6} B");
    }

    // The HandshakeBenchmarks scenario (both ends in this thread) with endpoints built under one X25519 backend;
    // the process-wide default is switched to that backend around each run so the per-call DHs use it too.
    private sealed class HandshakePair
    {
        private readonly X25519Backend _backend;
        private readonly PacketBufferPool _pool = new();
        private readonly WireGuardEndpoint _a;
        private readonly WireGuardEndpoint _b;
        private readonly WireGuardPeer _peerAtA;
        private readonly LastDatagramOutput _outputA = new();
        private readonly LastDatagramOutput _outputB = new();
        private readonly UnderlayAddress _addressA = UnderlayAddress.FromIPv4([127, 0, 0, 1], 1);
        private readonly UnderlayAddress _addressB = UnderlayAddress.FromIPv4([127, 0, 0, 1], 2);
        private long _now = TimeSpan.FromHours(1).Ticks;

        public HandshakePair(X25519Backend backend)
        {
            _backend = backend;
            X25519.Backend = backend;
            var timers = WireGuardTimerSettings.Default with { HandshakeInitiationRate = TimeSpan.Zero };
            _a = new WireGuardEndpoint(new WireGuardEndpointOptions { PrivateKey = NewKey(), Pool = _pool, Timers = timers });
            _b = new WireGuardEndpoint(new WireGuardEndpointOptions { PrivateKey = NewKey(), Pool = _pool, Timers = timers });
            _peerAtA = _a.AddPeer(_b.PublicKey);
            _b.AddPeer(_a.PublicKey);
            _a.ConfigureEndpoint(_peerAtA, _addressB);
            X25519.Backend = X25519.AutoBackend;
        }

        public void Run(int count)
        {
            X25519.Backend = _backend;
            for (int i = 0; i < count; i++)
            {
                long before = _peerAtA.HandshakesCompleted;
                _now += TimeSpan.FromSeconds(6).Ticks;
                _a.InitiateHandshake(_peerAtA, _now, _outputA);
                _b.ReceiveDatagram(_outputA.Take(), _addressA, _now, 0, _outputB);
                _a.ReceiveDatagram(_outputB.Take(), _addressB, _now, 0, _outputA);
                _outputA.Clear();
                Debug.Assert(_peerAtA.HandshakesCompleted == before + 1 || _peerAtA.Current is not null);
            }

            X25519.Backend = X25519.AutoBackend;
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
}
