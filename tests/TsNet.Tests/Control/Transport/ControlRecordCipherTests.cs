using TsNet.Control.Transport;
using TsNet.Tests.Crypto;

namespace TsNet.Tests.Control.Transport;

public class ControlRecordCipherTests
{
    private const string C1 = "1ffa520b7b784b83355f4ca5754d333f51f53ff31d9d98f697c22e8f79b66e22";
    private const string C2 = "1657d025486888648386e46e37e6722a42c605d3f1b0ec24454190a645355089";
    private const string Hello = "040015dc192494126dbf7536fc5739545df3ba74e6dc4970";
    private const string World = "040015cd3e14d1ef702c44afffa2bb11c9327cbd73e794cc";
    private const string WorldLittleEndianNonce = "040015f4c27fd1bc1b08c94008d6d612e0780b1b6c6c459d";

    // test-fixtures.md B.1: the early payload as Go/Headscale send it (S→C, nonces 0..2).
    internal const string EarlyJson = "{\"nodeKeyChallenge\":\"chalpub:9fd7ad6dcff4298dd3f96d5b1b2af910a0535b1488d7f8fabb349a982880b615\"}";
    internal static readonly string[] EarlyFrames =
    [
        "040015970a14771e3986da5bc61cb910623aa7aba8c4df6f",
        "040014e17b8abc4278e64ef54c8ad15750f70a76f9e783",
        "04006f9f05a9c0ef62720cee7a3322a00740f98f319193d19e5492b6b86a5898d1db5a7a3fad91f622101cc840a1047569a4f066fcffbac3b2995434e95a59102865ddc54fae77133e4c6dea807a09afe3a5dae4407487f8364b67807d6821738acffb3c75363f1e3a015e66bfd4c5c8d299",
    ];

    private static string Seal(ControlRecordCipher cipher, ReadOnlySpan<byte> plaintext)
    {
        byte[] frame = new byte[ControlRecordCipher.FrameSize(plaintext.Length)];
        cipher.Seal(plaintext, frame).Should().Be(frame.Length);
        return Hex.Encode(frame);
    }

    [Fact]
    public void ClientRecords_MatchB1_WithBigEndianNonces()
    {
        using var cipher = new ControlRecordCipher(Hex.Decode(C1));

        Seal(cipher, "hello"u8).Should().Be(Hello);
        Seal(cipher, "world"u8).Should().Be(World).And.NotBe(WorldLittleEndianNonce);
        cipher.Counter.Should().Be(2);
    }

    [Fact]
    public void EarlyPayloadRecords_MatchB1()
    {
        using var cipher = new ControlRecordCipher(Hex.Decode(C2));

        Seal(cipher, Hex.Decode("ffffff5453")).Should().Be(EarlyFrames[0]);
        Seal(cipher, Hex.Decode("0000005f")).Should().Be(EarlyFrames[1]);
        Seal(cipher, System.Text.Encoding.ASCII.GetBytes(EarlyJson)).Should().Be(EarlyFrames[2]);
    }

    [Fact]
    public void Open_B1Records_ReturnsPlaintext()
    {
        using var cipher = new ControlRecordCipher(Hex.Decode(C1));
        byte[] plaintext = new byte[ControlNoise.MaxPlaintextSize];

        foreach (var (frame, expected) in new[] { (Hello, "hello"), (World, "world") })
        {
            byte[] bytes = Hex.Decode(frame);
            int length = ControlRecordCipher.ParseHeader(bytes);
            int opened = cipher.Open(bytes.AsSpan(3, length), plaintext);
            System.Text.Encoding.ASCII.GetString(plaintext, 0, opened).Should().Be(expected);
        }
    }

    [Fact]
    public void Open_LittleEndianNonceFrame_FailsAndBreaksTheDirection()
    {
        using var cipher = new ControlRecordCipher(Hex.Decode(C1));
        byte[] plaintext = new byte[ControlNoise.MaxPlaintextSize];
        byte[] hello = Hex.Decode(Hello);
        cipher.Open(hello.AsSpan(3), plaintext);
        byte[] wrong = Hex.Decode(WorldLittleEndianNonce);

        cipher.Invoking(c => c.Open(wrong.AsSpan(3), plaintext)).Should().Throw<ControlTransportException>();
        byte[] right = Hex.Decode(World);
        cipher.Invoking(c => c.Open(right.AsSpan(3), plaintext)).Should().Throw<ControlTransportException>("a failed record is fatal");
    }

    [Theory]
    [InlineData("030015", "type")]
    [InlineData("010015", "type")]
    [InlineData("040ffe", "exceeds")]
    [InlineData("04ffff", "exceeds")]
    [InlineData("04000f", "shorter than its tag")]
    public void ParseHeader_Rejects(string header, string reason)
        => FluentActions.Invoking(() => ControlRecordCipher.ParseHeader(Hex.Decode(header)))
            .Should().Throw<ControlTransportException>().WithMessage($"*{reason}*");

    [Fact]
    public void ParseHeader_AcceptsTheLargestFrame()
        => ControlRecordCipher.ParseHeader(Hex.Decode("040ffd")).Should().Be(4093);

    [Fact]
    public void Seal_RejectsMoreThanOneRecordOfPlaintext()
    {
        using var cipher = new ControlRecordCipher(Hex.Decode(C1));

        cipher.Invoking(c => c.Seal(new byte[4078], new byte[5000])).Should().Throw<ArgumentException>();
        cipher.Seal(new byte[4077], new byte[4096]).Should().Be(4096);
    }

    [Fact]
    public void CounterAtMaximum_IsExhausted()
    {
        using var cipher = new ControlRecordCipher(Hex.Decode(C1));
        cipher.SetCounterForTest(ulong.MaxValue - 1);
        cipher.Seal("a"u8, new byte[20]);

        cipher.Invoking(c => c.Seal("b"u8, new byte[20])).Should().Throw<ControlTransportException>().WithMessage("*exhausted*");
    }
}
