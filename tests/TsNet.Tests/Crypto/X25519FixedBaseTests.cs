using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

/// <summary>
/// The fixed-base public key computation (<see cref="X25519FixedBase"/>) against the Montgomery ladder with u = 9
/// and libcrypto: RFC 7748's known keys, random unclamped scalars, and scalars whose radix-16 digits sit at the
/// recoding's edges (all 0x00, all 0xff, every nibble 8).
/// </summary>
public class X25519FixedBaseTests
{
    [Fact]
    public void Rfc7748KeyPairs_GiveTheKnownPublicKeys()
    {
        byte[] output = new byte[32];
        X25519FixedBase.DerivePublicKey(Hex.Decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"), output);
        Hex.Encode(output).Should().Be("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        X25519FixedBase.DerivePublicKey(Hex.Decode("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"), output);
        Hex.Encode(output).Should().Be("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    }

    [Fact]
    public void RandomAndEdgeScalars_MatchTheLadderAndLibcrypto()
    {
        var random = new Random(25519);
        var scalars = new List<byte[]>
        {
            new byte[32],
            Enumerable.Repeat((byte)0xff, 32).ToArray(),
            Enumerable.Repeat((byte)0x88, 32).ToArray(),
            Enumerable.Repeat((byte)0x77, 32).ToArray(),
            Enumerable.Repeat((byte)0x08, 32).ToArray(),
        };
        for (int i = 0; i < 300 * TestScale.Factor; i++)
        {
            byte[] k = new byte[32];
            random.NextBytes(k); // unclamped: the fixed-base code clamps a copy, as X25519 does
            scalars.Add(k);
        }

        byte[] fixedBase = new byte[32], ladder = new byte[32], libcrypto = new byte[32];
        foreach (byte[] k in scalars)
        {
            X25519FixedBase.DerivePublicKey(k, fixedBase);
            X25519.DerivePublicKey(k, ladder, X25519Backend.Managed);
            fixedBase.Should().Equal(ladder, Hex.Encode(k));
            if (X25519.IsSupported(X25519Backend.OpenSsl))
            {
                X25519.DerivePublicKey(k, libcrypto, X25519Backend.OpenSsl);
                fixedBase.Should().Equal(libcrypto, Hex.Encode(k));
            }
        }
    }
}
