using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

public class ChaCha20Poly1305AeadTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)] // BouncyCastle, the path taken where the BCL has no ChaCha20-Poly1305
    public void Seal_MatchesRfc8439Vector(bool portable)
    {
        byte[] output = new byte[Rfc8439Vector.Plaintext.Length + 16];
        ChaCha20Poly1305Aead.Seal(Rfc8439Vector.Key, Rfc8439Vector.Nonce, Rfc8439Vector.Plaintext, Rfc8439Vector.AssociatedData, output, portable);
        output.Should().Equal([.. Rfc8439Vector.Ciphertext, .. Rfc8439Vector.Tag]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Open_MatchesRfc8439Vector(bool portable)
    {
        byte[] plaintext = new byte[Rfc8439Vector.Plaintext.Length];
        ChaCha20Poly1305Aead.Open(Rfc8439Vector.Key, Rfc8439Vector.Nonce, [.. Rfc8439Vector.Ciphertext, .. Rfc8439Vector.Tag], Rfc8439Vector.AssociatedData, plaintext, portable)
            .Should().BeTrue();
        plaintext.Should().Equal(Rfc8439Vector.Plaintext);
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 50)]
    [InlineData(false, 113)] // last ciphertext byte
    [InlineData(false, 114)] // first tag byte
    [InlineData(false, 129)] // last tag byte
    [InlineData(true, 0)]
    [InlineData(true, 114)]
    [InlineData(true, 129)]
    public void Open_RejectsAFlippedBit(bool portable, int position)
    {
        byte[] sealedMessage = [.. Rfc8439Vector.Ciphertext, .. Rfc8439Vector.Tag];
        sealedMessage[position] ^= 0x04;
        byte[] plaintext = new byte[Rfc8439Vector.Plaintext.Length];
        ChaCha20Poly1305Aead.Open(Rfc8439Vector.Key, Rfc8439Vector.Nonce, sealedMessage, Rfc8439Vector.AssociatedData, plaintext, portable)
            .Should().BeFalse();
        plaintext.Should().OnlyContain(b => b == 0);
    }

    [Fact]
    public void Open_RejectsWrongAssociatedDataAndCounter()
    {
        byte[] key = Hex.Range(0x00, 0x1f);
        byte[] sealedMessage = new byte[16 + 16];
        ChaCha20Poly1305Aead.Seal(key, 5, new byte[16], "ad"u8, sealedMessage);
        byte[] plaintext = new byte[16];
        ChaCha20Poly1305Aead.Open(key, 5, sealedMessage, "ad"u8, plaintext).Should().BeTrue();
        ChaCha20Poly1305Aead.Open(key, 5, sealedMessage, "AD"u8, plaintext).Should().BeFalse();
        ChaCha20Poly1305Aead.Open(key, 6, sealedMessage, "ad"u8, plaintext).Should().BeFalse();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    public void Open_TooShortInput_ReturnsFalse(int length)
    {
        ChaCha20Poly1305Aead.Open(new byte[32], 0, new byte[length], [], []).Should().BeFalse();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SealAndOpen_InPlace_RoundTrip(bool portable)
    {
        byte[] nonce = new byte[12];
        ChaCha20Poly1305Aead.WriteNonce(0x0102030405060708, nonce);
        byte[] buffer = new byte[Rfc8439Vector.Plaintext.Length + 16];
        Rfc8439Vector.Plaintext.CopyTo(buffer, 0);
        Span<byte> plaintextRegion = buffer.AsSpan(0, Rfc8439Vector.Plaintext.Length);

        ChaCha20Poly1305Aead.Seal(Rfc8439Vector.Key, nonce, plaintextRegion, Rfc8439Vector.AssociatedData, buffer, portable);
        byte[] expected = new byte[buffer.Length];
        ChaCha20Poly1305Aead.Seal(Rfc8439Vector.Key, nonce, Rfc8439Vector.Plaintext, Rfc8439Vector.AssociatedData, expected, !portable);
        buffer.Should().Equal(expected);

        ChaCha20Poly1305Aead.Open(Rfc8439Vector.Key, nonce, buffer, Rfc8439Vector.AssociatedData, plaintextRegion, portable).Should().BeTrue();
        plaintextRegion.ToArray().Should().Equal(Rfc8439Vector.Plaintext);
    }

    [Fact]
    public void CounterOverload_UsesWireGuardNonce()
    {
        // wireguard.md §10.2: encrypted_nothing = AEAD(k3, 0, empty, H6).
        byte[] k3 = Hex.Decode("2441c0cb7b1a5c2bb3765e61393e064a8e487d1caede8360f4ee6729c991a0d5");
        byte[] h6 = Hex.Decode("bcb4f07f50d172d2159db0fb3f9df673d6aa9dfbc11ca9a5a5b8a05ac24d5789");
        byte[] output = new byte[16];
        ChaCha20Poly1305Aead.Seal(k3, 0, [], h6, output);
        Hex.Encode(output).Should().Be("6b48bcfdb2fa6808c058f0c9ef1c288f");
        ChaCha20Poly1305Aead.Open(k3, 0, output, h6, []).Should().BeTrue();
    }

    [Fact]
    public void Seal_MatchesHandshakeEncryptedTimestamp()
    {
        // wireguard.md §10.2: encrypted_timestamp = AEAD(k2, 0, TAI64N, H3).
        byte[] k2 = Hex.Decode("13ca985fba3d289c4ae6314286e1323ec6295d7448d5bc3553089b80ecbd984e");
        byte[] h3 = Hex.Decode("5030445f2429153146c73759c21159531af069f1aae943f2e6a512459b971e9d");
        byte[] output = new byte[12 + 16];
        ChaCha20Poly1305Aead.Seal(k2, 0, Hex.Decode("400000006553f10a07000000"), h3, output);
        Hex.Encode(output).Should().Be("36346bfa7cf42a122639f89315e67f2b43de40f99f8e6be9135e1632");
    }
}
