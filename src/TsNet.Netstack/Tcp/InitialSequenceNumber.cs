using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TsNet.Netstack.Tcp;

/// <summary>
/// Initial sequence numbers per RFC 6528: <c>ISN = M + F(localip, localport, remoteip, remoteport, secretkey)</c>
/// with M a clock ticking every 4 µs (derived from <c>now</c>) and F = SipHash-2-4 under a 128-bit secret chosen
/// once per node. The same keyed hash (with a different domain byte) gives each connection its random timestamp
/// offset (RFC 7323 §5.4), so neither leaks across connections.
/// </summary>
internal sealed class InitialSequenceNumber
{
    /// <summary>The RFC 6528 clock: one tick per 4 µs = 40 TimeSpan ticks.</summary>
    private const long TicksPerClockTick = 40;

    private const byte IsnDomain = 1;
    private const byte TimestampDomain = 2;
    private const int TupleLength = 16 + 16 + 2 + 2 + 1;

    private readonly ulong _k0;
    private readonly ulong _k1;

    /// <summary>Uses the given 16-byte secret (tests); production code uses <see cref="CreateRandom"/>.</summary>
    public InitialSequenceNumber(ReadOnlySpan<byte> secret)
    {
        if (secret.Length != 16)
        {
            throw new ArgumentException("The secret has 16 bytes.", nameof(secret));
        }

        _k0 = BinaryPrimitives.ReadUInt64LittleEndian(secret);
        _k1 = BinaryPrimitives.ReadUInt64LittleEndian(secret[8..]);
    }

    /// <summary>A generator with a fresh random secret.</summary>
    public static InitialSequenceNumber CreateRandom()
    {
        Span<byte> secret = stackalloc byte[16];
        RandomNumberGenerator.Fill(secret);
        return new InitialSequenceNumber(secret);
    }

    /// <summary>The ISN for a new connection on <paramref name="endpoints"/> at <paramref name="now"/> (ticks).</summary>
    public SeqNum Generate(in TcpEndpoints endpoints, long now) =>
        new(unchecked((uint)(now / TicksPerClockTick) + (uint)Hash(endpoints, IsnDomain)));

    /// <summary>The per-connection offset added to our timestamp clock.</summary>
    public uint TimestampOffset(in TcpEndpoints endpoints) => (uint)Hash(endpoints, TimestampDomain);

    private ulong Hash(in TcpEndpoints endpoints, byte domain)
    {
        Span<byte> tuple = stackalloc byte[TupleLength];
        BinaryPrimitives.WriteUInt128BigEndian(tuple, endpoints.LocalAddress.Value);
        BinaryPrimitives.WriteUInt128BigEndian(tuple[16..], endpoints.RemoteAddress.Value);
        BinaryPrimitives.WriteUInt16BigEndian(tuple[32..], endpoints.LocalPort);
        BinaryPrimitives.WriteUInt16BigEndian(tuple[34..], endpoints.RemotePort);
        tuple[36] = domain;
        return SipHash.Compute(_k0, _k1, tuple);
    }
}
