using System.Text;
using Org.BouncyCastle.Crypto.Engines;

using Org.BouncyCastle.Crypto.Parameters;
using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

/// <summary>NaCl box pieces (HSalsa20, Salsa20, Poly1305, secretbox, box) against published and reference vectors.</summary>
public class NaClBoxTests
{
    // golang.org/x/crypto/nacl/secretbox TestSealed-style vector (tailscale-udprelay.md §2.3).
    private const string SecretBoxOutput =
        "8442bc313f4626f1359e3b50122b6ce6fe66ddfe7d39d14e637eb4fd5b45beadab55198df6ab5368439792a23c87db70acb6156dc5ef957ac04f6276cf6093b84be77ff0849cc33e34b7254d5a8f65ad";

    private const string BoxOutput =
        "78ea30b19d2341ebbdba54180f821eec265cf86312549bea8a37652a8bb94f07b78a73ed1708085e6ddd0e943bbdeb8755079a37eb31d86163ce241164a47629c0539f330b4914cd135b3855bc2a2dfc";

    [Theory]
    [InlineData("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", "00000000000000000000000000000000", "1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389")]
    [InlineData("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389", "69696ee955b62b73cd62bda875fc73d6", "dc908dda0b9344a953629b733820778880f3ceb421bb61b91cbd4c3e66256ce4")]
    public void HSalsa20_MatchesNaClCoreVectors(string keyHex, string inputHex, string outputHex)
    {
        // Bernstein, "Cryptography in NaCl" §8 (libsodium's core1 and core2 tests).
        var output = new byte[32];
        Salsa20.HSalsa20(Hex.Decode(keyHex), Hex.Decode(inputHex), output);
        Hex.Encode(output).Should().Be(outputHex);
    }

    [Fact]
    public void Poly1305_MatchesRfc8439Section252()
    {
        var key = Hex.Decode("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
        var tag = new byte[16];
        Poly1305.Compute(key, Encoding.ASCII.GetBytes("Cryptographic Forum Research Group"), tag);
        Hex.Encode(tag).Should().Be("a8061dc1305136c6c22b8baf0c0127a9");
    }

    [Fact]
    public void Poly1305_MatchesBouncyCastle_ForEveryLengthUpTo200()
    {
        var random = new Random(6);
        for (int length = 0; length <= 200; length++)
        {
            var key = new byte[32];
            var message = new byte[length];
            random.NextBytes(key);
            random.NextBytes(message);
            // All-0xff inputs exercise the final carry and the h >= p reduction.
            if (length % 7 == 0)
            {
                Array.Fill(message, (byte)0xff);
                Array.Fill(key, (byte)0xff, 0, 16);
            }

            var ours = new byte[16];
            Poly1305.Compute(key, message, ours);
            var reference = new Org.BouncyCastle.Crypto.Macs.Poly1305();
            reference.Init(new KeyParameter(key));
            reference.BlockUpdate(message, 0, message.Length);
            var expected = new byte[16];
            reference.DoFinal(expected, 0);
            ours.Should().Equal(expected, $"length {length}");
        }
    }

    [Fact]
    public void XSalsa20_MatchesBouncyCastle_AtEveryOffset()
    {
        var random = new Random(7);
        var key = new byte[32];
        var nonce = new byte[24];
        random.NextBytes(key);
        random.NextBytes(nonce);
        var engine = new XSalsa20Engine();
        engine.Init(true, new ParametersWithIV(new KeyParameter(key), nonce));
        var zeros = new byte[300];
        var expected = new byte[300];
        engine.ProcessBytes(zeros, 0, zeros.Length, expected, 0);

        var subkey = new byte[32];
        Salsa20.HSalsa20(key, nonce.AsSpan(0, 16), subkey);
        foreach (var offset in new[] { 0, 1, 32, 63, 64, 65, 130 })
        {
            var output = new byte[300 - offset];
            Salsa20.XorKeyStream(subkey, nonce.AsSpan(16), offset, zeros.AsSpan(offset), output);
            output.Should().Equal(expected.AsSpan(offset).ToArray(), $"offset {offset}");
        }
    }

    [Fact]
    public void SecretBox_Seal_MatchesKnownAnswer()
    {
        var output = new byte[64 + 16];
        NaClBox.Seal(Filled(32, 1), Filled(24, 2), Filled(64, 3), output);
        Hex.Encode(output).Should().Be(SecretBoxOutput);
    }

    [Fact]
    public void SecretBox_Open_MatchesKnownAnswer_AndRejectsEveryBitFlip()
    {
        var sealedBytes = Hex.Decode(SecretBoxOutput);
        var plaintext = new byte[64];
        NaClBox.Open(Filled(32, 1), Filled(24, 2), sealedBytes, plaintext).Should().BeTrue();
        plaintext.Should().Equal(Filled(64, 3));

        for (int bit = 0; bit < sealedBytes.Length * 8; bit += 13)
        {
            var tampered = (byte[])sealedBytes.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            NaClBox.Open(Filled(32, 1), Filled(24, 2), tampered, plaintext).Should().BeFalse();
        }

        NaClBox.Open(Filled(32, 1), Filled(24, 2), sealedBytes.AsSpan(0, 15), []).Should().BeFalse("shorter than a tag");
    }

    [Fact]
    public void Box_WithPrecomputation_MatchesKnownAnswer_FromBothSides()
    {
        var senderPrivate = Filled(32, 2);
        var recipientPrivate = Filled(32, 1);
        var recipientPublic = new byte[32];
        var senderPublic = new byte[32];
        X25519.DerivePublicKey(recipientPrivate, recipientPublic);
        X25519.DerivePublicKey(senderPrivate, senderPublic);

        var shared = new byte[32];
        NaClBox.TryPrecompute(senderPrivate, recipientPublic, shared).Should().BeTrue();
        var output = new byte[80];
        NaClBox.Seal(shared, Filled(24, 4), Filled(64, 3), output);
        Hex.Encode(output).Should().Be(BoxOutput);

        var sharedAtRecipient = new byte[32];
        NaClBox.TryPrecompute(recipientPrivate, senderPublic, sharedAtRecipient).Should().BeTrue();
        sharedAtRecipient.Should().Equal(shared);
        var plaintext = new byte[64];
        NaClBox.Open(sharedAtRecipient, Filled(24, 4), output, plaintext).Should().BeTrue();
        plaintext.Should().Equal(Filled(64, 3));
    }

    [Theory]
    [InlineData("0002030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f60", "64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466", "f8d48c0771b2fab0580110626883f7671e7d0001a6823f3ad9e93d8ef177e8fc")]
    [InlineData("0002030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f60", "5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b", "ec88f6e13b22bf9f04d480e0d8525c08ac7e2f48e212742bcbcafa104a74b08d")]
    public void Precompute_MatchesRelayReferenceSharedKeys(string privateHex, string publicHex, string sharedHex)
    {
        var shared = new byte[32];
        NaClBox.TryPrecompute(Hex.Decode(privateHex), Hex.Decode(publicHex), shared).Should().BeTrue();
        Hex.Encode(shared).Should().Be(sharedHex);
    }

    [Fact]
    public void Precompute_RejectsLowOrderPublicKey()
    {
        var shared = new byte[32];
        NaClBox.TryPrecompute(Filled(32, 1), new byte[32], shared).Should().BeFalse();
    }

    [Fact]
    public void SealAndOpen_RoundTripInPlace_ForManyLengths()
    {
        var random = new Random(8);
        var key = new byte[32];
        var nonce = new byte[24];
        random.NextBytes(key);
        random.NextBytes(nonce);
        for (int length = 0; length < 150; length += 7)
        {
            var message = new byte[length];
            random.NextBytes(message);
            var buffer = new byte[length + 16];
            NaClBox.Seal(key, nonce, message, buffer);
            var opened = new byte[length];
            NaClBox.Open(key, nonce, buffer, opened).Should().BeTrue();
            opened.Should().Equal(message);
        }
    }

    private static byte[] Filled(int length, byte value)
    {
        var bytes = new byte[length];
        Array.Fill(bytes, value);
        return bytes;
    }
}
