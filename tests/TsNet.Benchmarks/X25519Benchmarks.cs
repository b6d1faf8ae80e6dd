using BenchmarkDotNet.Attributes;
using TsNet.WireGuard.Crypto;
using BcX25519 = Org.BouncyCastle.Math.EC.Rfc7748.X25519;

namespace TsNet.Benchmarks;

/// <summary>
/// One X25519 scalar multiplication (a full handshake costs eight): the managed ladder, libcrypto one-shot (key
/// import, context, derive, free), libcrypto with a cached private key (<see cref="X25519StaticKey"/>, what the
/// endpoint uses for its static key), and BouncyCastle. The baseline for the primitive is
/// <c>openssl speed ecdhx25519</c>. Run: dotnet run -c Release --project tests/TsNet.Benchmarks -- --filter *X25519* --job short
/// </summary>
[MemoryDiagnoser]
public class X25519Benchmarks
{
    private readonly byte[] _privateKey = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    private readonly byte[] _publicKey = Convert.FromHexString("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    private readonly byte[] _output = new byte[32];
    private X25519StaticKey _staticKey = null!;

    [GlobalSetup]
    public void Setup() => _staticKey = new X25519StaticKey(_privateKey, X25519Backend.OpenSsl);

    [GlobalCleanup]
    public void Cleanup() => _staticKey.Dispose();

    [Benchmark(Baseline = true)]
    public bool ManagedSharedSecret() => X25519.TrySharedSecret(_privateKey, _publicKey, _output, X25519Backend.Managed);

    [Benchmark]
    public bool OpenSslSharedSecret() => X25519.TrySharedSecret(_privateKey, _publicKey, _output, X25519Backend.OpenSsl);

    [Benchmark]
    public bool OpenSslStaticKeySharedSecret() => _staticKey.TrySharedSecret(_publicKey, _output);

    [Benchmark]
    public byte[] BouncyCastleScalarMult()
    {
        BcX25519.ScalarMult(_privateKey, 0, _publicKey, 0, _output, 0);
        return _output;
    }

    [Benchmark]
    public byte[] ManagedDerivePublicKey()
    {
        X25519.DerivePublicKey(_privateKey, _output, X25519Backend.Managed);
        return _output;
    }

    [Benchmark]
    public byte[] OpenSslDerivePublicKey()
    {
        X25519.DerivePublicKey(_privateKey, _output, X25519Backend.OpenSsl);
        return _output;
    }

    [Benchmark]
    public byte[] BouncyCastleScalarMultBase()
    {
        BcX25519.ScalarMultBase(_privateKey, 0, _output, 0);
        return _output;
    }
}
