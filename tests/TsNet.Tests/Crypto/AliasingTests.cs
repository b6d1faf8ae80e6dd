using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

/// <summary>
/// The Noise state updates in place (chaining key and hash are both input and output); each form the protocol
/// core uses is checked against wireguard.md §10.2.
/// </summary>
public class AliasingTests
{
    [Fact]
    public void Hash_OutputAliasingFirstInput_MixHash()
    {
        byte[] hash = Hex.Decode("2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3"); // H0
        byte[] responderPublic = Hex.Decode("5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b");
        Blake2s.Hash(hash, responderPublic, hash);
        Hex.Encode(hash).Should().Be("e991030defb72f2c551e33ca34cbaf94d903524dd32c522f15decb3753abcc4e"); // H1
    }

    [Fact]
    public void Hash_OutputAliasingSecondInput()
    {
        byte[] h0 = Hex.Decode("2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
        byte[] buffer = Hex.Decode("5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b");
        Blake2s.Hash(h0, buffer, buffer);
        Hex.Encode(buffer).Should().Be("e991030defb72f2c551e33ca34cbaf94d903524dd32c522f15decb3753abcc4e");
    }

    [Fact]
    public void Kdf1_OutputAliasingKey_MixKey()
    {
        byte[] chainingKey = Hex.Decode("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36"); // C0
        byte[] ephemeral = Hex.Decode("64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466");
        NoiseKdf.Kdf1(chainingKey, ephemeral, chainingKey);
        Hex.Encode(chainingKey).Should().Be("914c3f4423fedfc7e3f0ca1e20ac4f1fc4752afee9ce67d305352813d450c2e2"); // C1
    }

    [Fact]
    public void Kdf2_FirstOutputAliasingKey_MixKeyAndKey()
    {
        byte[] chainingKey = Hex.Decode("914c3f4423fedfc7e3f0ca1e20ac4f1fc4752afee9ce67d305352813d450c2e2"); // C1
        byte[] shared = Hex.Decode("b6ddcb217f2edb78fe01f0d967925f1e3fda132789e4566ddc2abcd3e2fd9526"); // DH(E_i, S_r)
        byte[] key = new byte[32];
        NoiseKdf.Kdf2(chainingKey, shared, chainingKey, key);
        Hex.Encode(chainingKey).Should().Be("6e73fad0dff3a2354e540b7978f9c1aa8a8e05b3be60f4d0d90de2769439e512"); // C2
        Hex.Encode(key).Should().Be("a8eced84cf0f2c950b7ddf81ec03a4acc0bf7115f5b4934f3d4ef388c915a878"); // k1
    }

    [Fact]
    public void Kdf2_SecondOutputAliasingInput()
    {
        byte[] chainingKey = Hex.Decode("914c3f4423fedfc7e3f0ca1e20ac4f1fc4752afee9ce67d305352813d450c2e2");
        byte[] buffer = Hex.Decode("b6ddcb217f2edb78fe01f0d967925f1e3fda132789e4566ddc2abcd3e2fd9526");
        NoiseKdf.Kdf2(chainingKey, buffer, chainingKey, buffer);
        Hex.Encode(chainingKey).Should().Be("6e73fad0dff3a2354e540b7978f9c1aa8a8e05b3be60f4d0d90de2769439e512");
        Hex.Encode(buffer).Should().Be("a8eced84cf0f2c950b7ddf81ec03a4acc0bf7115f5b4934f3d4ef388c915a878");
    }

    [Fact]
    public void Kdf3_FirstOutputAliasingKey_MixKeyAndHashPsk()
    {
        byte[] chainingKey = Hex.Decode("8ecebfee7f79ffc1d6f2289338cfb7720ac330d48f8163afcbe23bd3d109ff17"); // C6
        byte[] presharedKey = new byte[32];
        byte[] tau = new byte[32], key = new byte[32];
        NoiseKdf.Kdf3(chainingKey, presharedKey, chainingKey, tau, key);
        Hex.Encode(chainingKey).Should().Be("b798cb0d698b0fad7db1cbf5aea4f6d50c5fdecdba893d07d92a49b0fac83fce"); // C7
        Hex.Encode(tau).Should().Be("49659a08562954ffe6a1b733f79b108e23c5b859e9e0ba7c2352353c447035d5");
        Hex.Encode(key).Should().Be("2441c0cb7b1a5c2bb3765e61393e064a8e487d1caede8360f4ee6729c991a0d5"); // k3
    }

    [Fact]
    public void Hmac_OutputAliasingKeyAndData()
    {
        byte[] key = Hex.Range(0x00, 0x1f);
        byte[] data = Hex.Range(0x20, 0x3f);
        byte[] expected = new byte[32];
        Blake2s.Hmac(key, data, expected);

        byte[] aliasKey = (byte[])key.Clone();
        Blake2s.Hmac(aliasKey, data, aliasKey);
        aliasKey.Should().Equal(expected);

        byte[] aliasData = (byte[])data.Clone();
        Blake2s.Hmac(key, aliasData, aliasData);
        aliasData.Should().Equal(expected);
    }

    [Fact]
    public void Mac_OutputAliasingData()
    {
        byte[] secret = Hex.Range(0xa0, 0xbf);
        byte[] buffer = Hex.Decode("c00002016cca00000000000000000000");
        Blake2s.Mac(secret, buffer.AsSpan(0, 6), buffer);
        Hex.Encode(buffer).Should().Be("9228f680f426f6e880206a0119ea5506");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Open_TagOnly_EmptyPlaintext(bool portable)
    {
        // wireguard.md §10.2: encrypted_nothing in MESSAGE 2 = AEAD(k3, 0, empty, H6).
        byte[] k3 = Hex.Decode("2441c0cb7b1a5c2bb3765e61393e064a8e487d1caede8360f4ee6729c991a0d5");
        byte[] h6 = Hex.Decode("bcb4f07f50d172d2159db0fb3f9df673d6aa9dfbc11ca9a5a5b8a05ac24d5789");
        byte[] encryptedNothing = Hex.Decode("6b48bcfdb2fa6808c058f0c9ef1c288f");
        byte[] nonce = new byte[12];
        ChaCha20Poly1305Aead.Open(k3, 0, encryptedNothing, h6, Span<byte>.Empty).Should().BeTrue();
        ChaCha20Poly1305Aead.Open(k3, nonce, encryptedNothing, h6, Span<byte>.Empty, portable).Should().BeTrue();

        encryptedNothing[0] ^= 1;
        ChaCha20Poly1305Aead.Open(k3, nonce, encryptedNothing, h6, Span<byte>.Empty, portable).Should().BeFalse();
    }
}
