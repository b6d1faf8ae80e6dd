using System.Text;
using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

public class Blake2sTests
{
    [Theory]
    [InlineData("abc", "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982")] // RFC 7693 App. B
    [InlineData("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36")] // wireguard.md C0
    public void Hash_MatchesKnownAnswer(string input, string expected)
    {
        byte[] hash = new byte[Blake2s.HashSize];
        Blake2s.Hash(Encoding.ASCII.GetBytes(input), hash);
        Hex.Encode(hash).Should().Be(expected);
    }

    [Fact]
    public void Hash_OfTwoParts_EqualsHashOfConcatenation()
    {
        // H0 = HASH(C0 ‖ IDENTIFIER), wireguard.md §1.
        byte[] c0 = Hex.Decode("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
        byte[] identifier = Encoding.ASCII.GetBytes("WireGuard v1 zx2c4 Jason@zx2c4.com");
        byte[] hash = new byte[Blake2s.HashSize];
        Blake2s.Hash(c0, identifier, hash);
        Hex.Encode(hash).Should().Be("2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
    }

    [Fact]
    public void Hash_LongInput_SpansSeveralChunks()
    {
        byte[] data = new byte[1000];
        new Random(7).NextBytes(data);
        byte[] whole = new byte[Blake2s.HashSize];
        byte[] split = new byte[Blake2s.HashSize];
        Blake2s.Hash(data, whole);
        Blake2s.Hash(data.AsSpan(0, 333), data.AsSpan(333), split);
        split.Should().Equal(whole);
    }

    [Fact]
    public void Mac_IsKeyedBlake2s128_NotATruncated256BitHash()
    {
        byte[] key = Hex.Range(0x00, 0x1f);
        byte[] data = Encoding.ASCII.GetBytes("abc");
        byte[] mac = new byte[Blake2s.MacSize];
        Blake2s.Mac(key, data, mac);

        var keyed256 = new Org.BouncyCastle.Crypto.Digests.Blake2sDigest(key, 32, null, null);
        keyed256.BlockUpdate(data, 0, data.Length);
        byte[] full = new byte[32];
        keyed256.DoFinal(full, 0);

        mac.Should().NotEqual(full.AsSpan(0, 16).ToArray(), "the output length is part of BLAKE2's parameter block");
    }

    [Fact]
    public void Mac_MatchesWireGuardCookieVector()
    {
        // wireguard.md §10.2: cookie = MAC(R_m, src).
        byte[] secret = Hex.Range(0xa0, 0xbf);
        byte[] source = Hex.Decode("c00002016cca");
        byte[] cookie = new byte[Blake2s.MacSize];
        Blake2s.Mac(secret, source, cookie);
        Hex.Encode(cookie).Should().Be("9228f680f426f6e880206a0119ea5506");
    }

    [Fact]
    public void Mac_MatchesWireGuardMac1Vector()
    {
        // wireguard.md §10.2: MESSAGE 1's mac1 over its first 116 bytes under HASH("mac1----" ‖ S_r_pub).
        byte[] message1 = Hex.Decode(
            "010000004433221164b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466"
            + "158a0e4ca242d151ca97ab90159a98b67e616625e68b4065d357376b6598e644ad7d678c0295d22d"
            + "e4cb43d5135581ed36346bfa7cf42a122639f89315e67f2b43de40f99f8e6be9135e1632");
        byte[] responderPublic = Hex.Decode("5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b");
        byte[] mac1Key = new byte[Blake2s.HashSize];
        Blake2s.Hash("mac1----"u8, responderPublic, mac1Key);
        Hex.Encode(mac1Key).Should().Be("5c5cbbfd0c782a2539047315dc2b629f825570bc6a8686d245dd060463b85e1b");

        byte[] mac1 = new byte[Blake2s.MacSize];
        Blake2s.Mac(mac1Key, message1, mac1);
        Hex.Encode(mac1).Should().Be("d45237be41c55cffa3e7b390a525fe65");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(200)]
    public void Hmac_MatchesRfc2104Definition(int keyLength)
    {
        byte[] key = new byte[keyLength];
        new Random(keyLength).NextBytes(key);
        byte[] data = Encoding.ASCII.GetBytes("message");
        byte[] actual = new byte[Blake2s.HashSize];
        Blake2s.Hmac(key, data, actual);
        actual.Should().Equal(ReferenceHmac(key, data));
    }

    // RFC 2104 written out with concatenations, as an independent check of the streaming implementation.
    private static byte[] ReferenceHmac(byte[] key, byte[] data)
    {
        if (key.Length > 64)
        {
            byte[] hashed = new byte[32];
            Blake2s.Hash(key, hashed);
            key = hashed;
        }

        byte[] block = new byte[64];
        key.CopyTo(block, 0);
        byte[] inner = [.. block.Select(b => (byte)(b ^ 0x36)), .. data];
        byte[] innerHash = new byte[32];
        Blake2s.Hash(inner, innerHash);
        byte[] outer = [.. block.Select(b => (byte)(b ^ 0x5c)), .. innerHash];
        byte[] result = new byte[32];
        Blake2s.Hash(outer, result);
        return result;
    }
}
