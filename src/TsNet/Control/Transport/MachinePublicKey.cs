using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using TsNet.Control.Protocol;
using TsNet.WireGuard.Crypto;

namespace TsNet.Control.Transport;

/// <summary>
/// A machine (Noise static) public key: the client's machine key or the control server's Noise key. Text form
/// <c>mkey:</c> + 64 hex digits (protocol doc §2).
/// </summary>
internal readonly struct MachinePublicKey : IEquatable<MachinePublicKey>
{
    /// <summary>The text prefix of a machine public key.</summary>
    public const string Prefix = ControlKeyText.MachinePublicPrefix;

    public const int Size = X25519.KeySize;

    private readonly byte[]? _bytes;

    private MachinePublicKey(byte[] bytes) => _bytes = bytes;

    /// <summary>The 32 key bytes (all zero for the default value).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes ?? new byte[Size];

    /// <summary>True for the all-zero key (what old servers send as <c>legacyPublicKey</c>).</summary>
    public bool IsZero => _bytes is null || !_bytes.AsSpan().ContainsAnyExcept((byte)0);

    /// <summary>A key from its 32 raw bytes.</summary>
    public static MachinePublicKey FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"machine keys are {Size} bytes", nameof(bytes));
        }

        return new MachinePublicKey(bytes.ToArray());
    }

    /// <summary>Parses <c>mkey:</c> + exactly 64 hex digits (either case); the prefix must match exactly.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out MachinePublicKey key)
    {
        key = default;
        var bytes = new byte[X25519.KeySize];
        if (text is null || !ControlKeyText.TryParseBytes(Prefix, text, bytes))
        {
            return false;
        }

        key = new MachinePublicKey(bytes);
        return true;
    }

    /// <summary>Like <see cref="TryParse"/>, throwing <see cref="FormatException"/> for bad text.</summary>
    public static MachinePublicKey Parse(string text)
        => TryParse(text, out var key) ? key : throw new FormatException($"not a machine public key (expected {Prefix} and 64 hex digits)");

    /// <inheritdoc/>
    public bool Equals(MachinePublicKey other) => CryptographicOperations.FixedTimeEquals(Bytes, other.Bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is MachinePublicKey other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => BitConverter.ToInt32(Bytes[..4]);

    /// <summary>The text form, <c>mkey:</c> + 64 lowercase hex digits.</summary>
    public override string ToString() => Prefix + Convert.ToHexStringLower(Bytes);

    public static bool operator ==(MachinePublicKey left, MachinePublicKey right) => left.Equals(right);

    public static bool operator !=(MachinePublicKey left, MachinePublicKey right) => !left.Equals(right);
}
