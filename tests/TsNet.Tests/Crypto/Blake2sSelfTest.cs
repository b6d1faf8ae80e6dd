using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Crypto;

/// <summary>RFC 7693 Appendix E self-test: many digest lengths, input lengths (multi-block) and keys in one checksum.</summary>
public sealed class Blake2sSelfTest
{
    [Fact]
    public void Rfc7693AppendixE_Checksum()
    {
        int[] outputLengths = [16, 20, 28, 32];
        int[] inputLengths = [0, 3, 64, 65, 255, 1024];
        var input = new byte[1024];
        var key = new byte[32];
        var digest = new byte[32];
        var checksum = new Blake2sEngine(32);
        foreach (var outLength in outputLengths)
        {
            foreach (var inLength in inputLengths)
            {
                SelfTestSequence(input.AsSpan(0, inLength), (uint)inLength);
                var unkeyed = new Blake2sEngine(outLength);
                unkeyed.Update(input.AsSpan(0, inLength));
                unkeyed.Finish(digest.AsSpan(0, outLength));
                checksum.Update(digest.AsSpan(0, outLength));

                SelfTestSequence(key.AsSpan(0, outLength), (uint)outLength);
                var keyed = new Blake2sEngine(outLength, key.AsSpan(0, outLength));
                keyed.Update(input.AsSpan(0, inLength));
                keyed.Finish(digest.AsSpan(0, outLength));
                checksum.Update(digest.AsSpan(0, outLength));
            }
        }

        var result = new byte[32];
        checksum.Finish(result);
        Hex.Encode(result).Should().Be("6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe");
    }

    [Fact]
    public void SplitUpdates_EqualOneShot()
    {
        var data = new byte[300];
        new Random(7).NextBytes(data);
        var oneShot = new byte[32];
        Blake2s.Hash(data, oneShot);
        for (var split = 0; split <= data.Length; split += 13)
        {
            var split2 = new byte[32];
            Blake2s.Hash(data.AsSpan(0, split), data.AsSpan(split), split2);
            split2.Should().Equal(oneShot);
        }
    }

    // RFC 7693 Appendix E "selftest_seq": a Fibonacci-style generator.
    private static void SelfTestSequence(Span<byte> output, uint seed)
    {
        var a = 0xDEAD4BADu * seed;
        var b = 1u;
        for (var i = 0; i < output.Length; i++)
        {
            var t = a + b;
            a = b;
            b = t;
            output[i] = (byte)(t >> 24);
        }
    }
}
