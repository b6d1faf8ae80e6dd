using TsNet.Tests.Crypto;

namespace TsNet.Tests.Relay;

/// <summary>Keys and packets of tailscale-udprelay.md §2.4 (computed and cross-checked against Go's x/crypto).</summary>
internal static class RelayVectors
{
    public static readonly byte[] ClientAPrivate = Hex.Decode("0002030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f60");
    public static readonly byte[] ClientAPublic = Hex.Decode("07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c");
    public static readonly byte[] ClientBPublic = Hex.Decode("5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b");
    public static readonly byte[] ServerPrivate = Hex.Decode("4042434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60");
    public static readonly byte[] ServerPublic = Hex.Decode("64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466");

    public const string BindInner =
        "040000000001000000075869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b" +
        "0000000000000000000000000000000000000000000000000000000000000000";

    public const string BindPacket =
        "00807a11000001005453f09f92ac07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b8" +
        "6d1c7c909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a739cce85dbde6e6e8f33cc73148a942a0" +
        "0e9fc5d0a4ae62146eaa29fc675c0ff104e020e6f18a75b21168a1aa2765c90c32afaac3f4c1cd8e7c00b2" +
        "009cf3f42d18d427b8abfce8896aad612b37f318d316eb40b7d87681a03e09";

    public const string ChallengeMac = "1ee77b1073331c1c7b17da53e49fde54cc472250da5e1ec4dea5a29fc32c8ea1";

    public const string ChallengePacket =
        "00807a11000001005453f09f92ac64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d98" +
        "46d48466303132333435363738393a3b3c3d3e3f404142434445464701a9ce31400ec4dfb02685dc3c58" +
        "9de0be3de7e9333e3d42c01d8dd0b74929eacb60c47bab90ccae8dde607e79e6ca50ebe6b2a32fbe3d40" +
        "6904a6505a3312971fa71d097a1ec72f9ba049d174cf9a3ed6aa9e7edc78aaebb2c1";

    public const string NakedPingPacket =
        "5453f09f92ac07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c" +
        "1111111111111111111111111111111111111111111111115a05412e09b947c3c4797b19d62375a42fd50df844ce3bfb1d0337b632ce";

    /// <summary>The marshal tests' key pattern: [1]=01, [2]=02, [30]=1e, [31]=1f, plus optional extra bytes.</summary>
    public static byte[] PatternKey(int extraIndex = -1)
    {
        var key = new byte[32];
        key[1] = 1;
        key[2] = 2;
        key[30] = 0x1e;
        key[31] = 0x1f;
        if (extraIndex >= 0)
        {
            key[extraIndex] = (byte)extraIndex;
        }

        return key;
    }
}
