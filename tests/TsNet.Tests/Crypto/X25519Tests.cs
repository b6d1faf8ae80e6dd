using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

public abstract class X25519Tests
{
    private const string AlicePrivate = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    private const string AlicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    private const string BobPrivate = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    private const string BobPublic = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    private const string Shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

    /// <summary>The implementation under test: every test runs against each backend (see the sealed subclasses).</summary>
    private protected abstract X25519Backend Backend { get; }

    [Theory]
    [InlineData(AlicePrivate, AlicePublic)] // RFC 7748 §6.1
    [InlineData(BobPrivate, BobPublic)]
    [InlineData("0002030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f60", "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c")] // wireguard.md §10.2 S_i
    [InlineData("2022232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40", "5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b")] // S_r
    public void DerivePublicKey_MatchesKnownAnswer(string privateKey, string expectedPublicKey)
    {
        byte[] publicKey = new byte[X25519.KeySize];
        X25519.DerivePublicKey(Hex.Decode(privateKey), publicKey, Backend);
        Hex.Encode(publicKey).Should().Be(expectedPublicKey);
    }

    [Theory]
    [InlineData(AlicePrivate, BobPublic, Shared)] // RFC 7748 §6.1, both directions
    [InlineData(BobPrivate, AlicePublic, Shared)]
    [InlineData("4042434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60", "5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b", "b6ddcb217f2edb78fe01f0d967925f1e3fda132789e4566ddc2abcd3e2fd9526")] // DH(E_i, S_r)
    public void TrySharedSecret_MatchesKnownAnswer(string privateKey, string publicKey, string expected)
    {
        byte[] shared = new byte[X25519.KeySize];
        X25519.TrySharedSecret(Hex.Decode(privateKey), Hex.Decode(publicKey), shared, Backend).Should().BeTrue();
        Hex.Encode(shared).Should().Be(expected);
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")] // zero
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")] // order 1 … small-subgroup points:
    [InlineData("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")] // order 8
    [InlineData("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157")] // order 8
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p - 1 (order 2)
    [InlineData("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p, reduces to 0
    public void TrySharedSecret_RejectsLowOrderPoints(string publicKey)
    {
        byte[] shared = new byte[X25519.KeySize];
        X25519.TrySharedSecret(Hex.Decode(AlicePrivate), Hex.Decode(publicKey), shared, Backend).Should().BeFalse();
        shared.Should().OnlyContain(b => b == 0);
    }

    [Fact]
    public void GeneratePrivateKey_IsClampedAndAgrees()
    {
        byte[] a = new byte[32], b = new byte[32], aPublic = new byte[32], bPublic = new byte[32];
        X25519.GeneratePrivateKey(a);
        X25519.GeneratePrivateKey(b);
        (a[0] & 7).Should().Be(0);
        (a[31] & 0xc0).Should().Be(0x40);
        X25519.DerivePublicKey(a, aPublic, Backend);
        X25519.DerivePublicKey(b, bPublic, Backend);

        byte[] ab = new byte[32], ba = new byte[32];
        X25519.TrySharedSecret(a, bPublic, ab, Backend).Should().BeTrue();
        X25519.TrySharedSecret(b, aPublic, ba, Backend).Should().BeTrue();
        ab.Should().Equal(ba);
    }

    [Fact]
    public void ClampPrivateKey_MatchesWireGuardRule()
    {
        byte[] key = Enumerable.Repeat((byte)0xff, 32).ToArray();
        X25519.ClampPrivateKey(key);
        key[0].Should().Be(0xf8);
        key[31].Should().Be(0x7f);
        key.AsSpan(1, 30).ToArray().Should().OnlyContain(b => b == 0xff);
    }
}

/// <summary>X25519Tests against libcrypto (<see cref="OpenSslX25519"/>); fails, rather than skips, without libcrypto.</summary>
public sealed class OpenSslX25519Tests : X25519Tests
{
    private protected override X25519Backend Backend => X25519Backend.OpenSsl;
}

/// <summary>X25519Tests against the managed ladder (the portable fallback).</summary>
public sealed class ManagedX25519Tests : X25519Tests
{
    private protected override X25519Backend Backend => X25519Backend.Managed;
}
