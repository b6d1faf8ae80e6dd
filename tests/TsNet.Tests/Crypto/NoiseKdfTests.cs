using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

public class NoiseKdfTests
{
    // wireguard-go device/kdf_test.go.
    public static TheoryData<string, string, string, string, string> WireGuardGoVectors => new()
    {
        {
            "746573742d6b6579", "746573742d696e707574",
            "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633",
            "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a",
            "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24"
        },
        {
            "776972656775617264", "776972656775617264",
            "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8",
            "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f",
            "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160"
        },
        {
            "", "",
            "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
            "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
            "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e"
        },
    };

    [Theory]
    [MemberData(nameof(WireGuardGoVectors))]
    public void Kdf3_MatchesWireGuardGo(string key, string input, string t1, string t2, string t3)
    {
        byte[] a = new byte[32], b = new byte[32], c = new byte[32];
        NoiseKdf.Kdf3(Hex.Decode(key), Hex.Decode(input), a, b, c);
        Hex.Encode(a).Should().Be(t1);
        Hex.Encode(b).Should().Be(t2);
        Hex.Encode(c).Should().Be(t3);
    }

    [Theory]
    [MemberData(nameof(WireGuardGoVectors))]
    public void Kdf2_IsThePrefixOfKdf3(string key, string input, string t1, string t2, string t3)
    {
        _ = t3;
        byte[] a = new byte[32], b = new byte[32];
        NoiseKdf.Kdf2(Hex.Decode(key), Hex.Decode(input), a, b);
        Hex.Encode(a).Should().Be(t1);
        Hex.Encode(b).Should().Be(t2);
    }

    [Theory]
    [MemberData(nameof(WireGuardGoVectors))]
    public void Kdf1_IsThePrefixOfKdf3(string key, string input, string t1, string t2, string t3)
    {
        _ = (t2, t3);
        byte[] a = new byte[32];
        NoiseKdf.Kdf1(Hex.Decode(key), Hex.Decode(input), a);
        Hex.Encode(a).Should().Be(t1);
    }

    [Fact]
    public void Kdf1_OutputMayAliasTheKey_AsMixKeyDoes()
    {
        // wireguard.md §10.2: C1 = KDF1(C0, E_i_pub), computed in place over the chaining key.
        byte[] chainingKey = Hex.Decode("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
        byte[] ephemeral = Hex.Decode("64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466");
        NoiseKdf.Kdf1(chainingKey, ephemeral, chainingKey);
        Hex.Encode(chainingKey).Should().Be("914c3f4423fedfc7e3f0ca1e20ac4f1fc4752afee9ce67d305352813d450c2e2");
    }
}
