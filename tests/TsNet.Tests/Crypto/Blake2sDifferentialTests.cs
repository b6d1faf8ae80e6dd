using Org.BouncyCastle.Crypto.Digests;
using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

/// <summary>
/// Our BLAKE2s against BouncyCastle's on every message length across several blocks, keyed and unkeyed, and the
/// prepared HMAC (<see cref="Blake2sHmac"/>, pad blocks compressed once) against the one-shot
/// <see cref="Blake2s.Hmac(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/>. Which compression runs depends on
/// the CPU (AVX2 schedule, AVX-512VL rotations, portable); running these with DOTNET_EnableAVX512F=0 or
/// DOTNET_EnableAVX2=0 covers the other paths.
/// </summary>
public class Blake2sDifferentialTests
{
    [Fact]
    public void Hash_EveryLengthUpTo300_MatchesBouncyCastle()
    {
        var random = new Random(7693);
        byte[] data = new byte[300];
        random.NextBytes(data);
        byte[] ours = new byte[Blake2s.HashSize], theirs = new byte[Blake2s.HashSize];
        for (int length = 0; length <= data.Length; length++)
        {
            Blake2s.Hash(data.AsSpan(0, length), ours);
            var digest = new Blake2sDigest(256);
            digest.BlockUpdate(data, 0, length);
            digest.DoFinal(theirs, 0);
            ours.Should().Equal(theirs, $"a {length}-byte message");
        }
    }

    [Fact]
    public void KeyedMac_EveryLengthUpTo200_MatchesBouncyCastle()
    {
        var random = new Random(16);
        byte[] key = new byte[32], data = new byte[200];
        random.NextBytes(key);
        random.NextBytes(data);
        byte[] ours = new byte[Blake2s.MacSize], theirs = new byte[Blake2s.MacSize];
        for (int length = 0; length <= data.Length; length++)
        {
            Blake2s.Mac(key, data.AsSpan(0, length), ours);
            var digest = new Blake2sDigest(key, Blake2s.MacSize, null, null);
            digest.BlockUpdate(data, 0, length);
            digest.DoFinal(theirs, 0);
            ours.Should().Equal(theirs, $"a {length}-byte message");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(32)]
    [InlineData(64)]
    public void PreparedHmac_EqualsOneShotHmac_ForManyMessages(int keyLength)
    {
        var random = new Random(2104 + keyLength);
        byte[] key = new byte[keyLength], message = new byte[150];
        random.NextBytes(key);
        random.NextBytes(message);
        var prepared = new Blake2sHmac(key);
        byte[] expected = new byte[Blake2s.HashSize], actual = new byte[Blake2s.HashSize];
        // The state is reused: each message must start from the keyed state, not from the previous message.
        for (int length = 1; length <= message.Length; length += 7)
        {
            int split = length / 3;
            Blake2s.Hmac(key, message.AsSpan(0, length), expected);
            prepared.Compute(message.AsSpan(0, split), message.AsSpan(split, length - split), actual);
            actual.Should().Equal(expected, $"a {length}-byte message");
        }

        prepared.Clear();
    }

    [Fact]
    public void PreparedHmac_RefusesAnEmptyMessage()
    {
        var act = () =>
        {
            var prepared = new Blake2sHmac(new byte[32]);
            prepared.Compute([], [], new byte[Blake2s.HashSize]);
        };
        act.Should().Throw<ArgumentException>();
    }
}
