using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

public class XChaCha20Poly1305AeadTests
{
    private static readonly byte[] DraftNonce = Hex.Decode("404142434445464748494a4b4c4d4e4f5051525354555657");

    private const string DraftCiphertext =
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e";

    private const string DraftTag = "c0875924c1c7987947deafd8780acf49";

    [Fact]
    public void HChaCha20_MatchesDraftVector()
    {
        // draft-irtf-cfrg-xchacha §2.2.1.
        byte[] subkey = new byte[32];
        XChaCha20Poly1305Aead.HChaCha20(Hex.Range(0x00, 0x1f), Hex.Decode("000000090000004a0000000031415927"), subkey);
        Hex.Encode(subkey).Should().Be("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc");
    }

    [Fact]
    public void Seal_MatchesDraftAppendixA31()
    {
        byte[] output = new byte[Rfc8439Vector.Plaintext.Length + 16];
        XChaCha20Poly1305Aead.Seal(Rfc8439Vector.Key, DraftNonce, Rfc8439Vector.Plaintext, Rfc8439Vector.AssociatedData, output);
        Hex.Encode(output).Should().Be(DraftCiphertext + DraftTag);
    }

    [Fact]
    public void Open_MatchesDraftAppendixA31()
    {
        byte[] plaintext = new byte[Rfc8439Vector.Plaintext.Length];
        XChaCha20Poly1305Aead.Open(Rfc8439Vector.Key, DraftNonce, Hex.Decode(DraftCiphertext + DraftTag), Rfc8439Vector.AssociatedData, plaintext)
            .Should().BeTrue();
        plaintext.Should().Equal(Rfc8439Vector.Plaintext);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(113)]
    [InlineData(114)]
    [InlineData(129)]
    public void Open_RejectsAFlippedBit(int position)
    {
        byte[] sealedMessage = Hex.Decode(DraftCiphertext + DraftTag);
        sealedMessage[position] ^= 0x80;
        byte[] plaintext = new byte[Rfc8439Vector.Plaintext.Length];
        XChaCha20Poly1305Aead.Open(Rfc8439Vector.Key, DraftNonce, sealedMessage, Rfc8439Vector.AssociatedData, plaintext).Should().BeFalse();
        plaintext.Should().OnlyContain(b => b == 0);
    }

    [Fact]
    public void SealAndOpen_MatchWireGuardCookieReply()
    {
        // wireguard.md §10.2: the cookie reply's encrypted cookie, AD = mac1 of MESSAGE 1.
        byte[] cookieKey = Hex.Decode("17728e626505a9a7054fda9a980a5209fb72714de5d9e476848ec7214cc83713");
        byte[] nonce = Hex.Range(0xd0, 0xe7);
        byte[] cookie = Hex.Decode("9228f680f426f6e880206a0119ea5506");
        byte[] mac1 = Hex.Decode("d45237be41c55cffa3e7b390a525fe65");

        byte[] encrypted = new byte[32];
        XChaCha20Poly1305Aead.Seal(cookieKey, nonce, cookie, mac1, encrypted);
        Hex.Encode(encrypted).Should().Be("9fd348538cadbbd92c2304fcb1c0b26bb839f4e198ad7efecceb983661771f1f");

        byte[] opened = new byte[16];
        XChaCha20Poly1305Aead.Open(cookieKey, nonce, encrypted, mac1, opened).Should().BeTrue();
        opened.Should().Equal(cookie);
    }

    [Fact]
    public void Seal_InPlace_MatchesOutOfPlace()
    {
        byte[] key = Hex.Range(0x10, 0x2f);
        byte[] nonce = Hex.Range(0x30, 0x47);
        byte[] plaintext = Hex.Range(0x00, 0x3f);
        byte[] expected = new byte[plaintext.Length + 16];
        XChaCha20Poly1305Aead.Seal(key, nonce, plaintext, [], expected);

        byte[] buffer = new byte[plaintext.Length + 16];
        plaintext.CopyTo(buffer, 0);
        XChaCha20Poly1305Aead.Seal(key, nonce, buffer.AsSpan(0, plaintext.Length), [], buffer);
        buffer.Should().Equal(expected);
    }
}
