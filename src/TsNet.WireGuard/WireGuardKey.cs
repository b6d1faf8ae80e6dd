using System.Security.Cryptography;
using System.Text.Json.Serialization;
using TsNet.WireGuard.Crypto;

namespace TsNet;

/// <summary>
/// A 32-byte Curve25519 key as WireGuard uses it (private, public or preshared), written in wg's base64 form.
/// In JSON it is that base64 text.
/// </summary>
[JsonConverter(typeof(WireGuardKeyJsonConverter))]
public readonly struct WireGuardKey : IEquatable<WireGuardKey>
{
    /// <summary>Key length in bytes.</summary>
    public const int Size = 32;

    private readonly byte[]? _bytes;

    /// <summary>Creates a key from 32 bytes (copied).</summary>
    public WireGuardKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"A WireGuard key is {Size} bytes, got {bytes.Length}.", nameof(bytes));
        }

        _bytes = bytes.ToArray();
    }

    /// <summary>The key bytes (all zero for <c>default</c>).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes is null ? new byte[Size] : _bytes;

    /// <summary>True for <c>default(WireGuardKey)</c> or an all-zero key.</summary>
    public bool IsEmpty => _bytes is null || !_bytes.AsSpan().ContainsAnyExcept((byte)0);

    /// <summary>The public key of this private key (X25519 with the base point).</summary>
    public WireGuardKey PublicKey
    {
        get
        {
            Span<byte> pub = stackalloc byte[Size];
            X25519.DerivePublicKey(Bytes, pub);
            return new WireGuardKey(pub);
        }
    }

    /// <summary>Generates a new clamped private key from a cryptographic random source.</summary>
    public static WireGuardKey Generate()
    {
        Span<byte> key = stackalloc byte[Size];
        X25519.GeneratePrivateKey(key);
        var result = new WireGuardKey(key);
        CryptographicOperations.ZeroMemory(key);
        return result;
    }

    /// <summary>Parses wg's base64 form (44 characters).</summary>
    /// <exception cref="FormatException">The text is not a base64-encoded 32-byte key.</exception>
    public static WireGuardKey Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!TryParse(text, out var key))
        {
            throw new FormatException("A WireGuard key is 32 bytes in base64 (44 characters ending in '=').");
        }

        return key;
    }

    /// <summary>Parses wg's base64 form; false when it is not a 32-byte key.</summary>
    public static bool TryParse(string? text, out WireGuardKey key)
    {
        key = default;
        if (text is null)
        {
            return false;
        }

        Span<byte> buffer = stackalloc byte[33];
        if (!Convert.TryFromBase64String(text.Trim(), buffer, out var written) || written != Size)
        {
            return false;
        }

        key = new WireGuardKey(buffer[..Size]);
        return true;
    }

    /// <summary>wg's base64 form.</summary>
    public override string ToString() => Convert.ToBase64String(Bytes);

    /// <inheritdoc/>
    public bool Equals(WireGuardKey other) => CryptographicOperations.FixedTimeEquals(Bytes, other.Bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is WireGuardKey other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => BitConverter.ToInt32(Bytes);

    /// <summary>Equality of key bytes.</summary>
    public static bool operator ==(WireGuardKey left, WireGuardKey right) => left.Equals(right);

    /// <summary>Inequality of key bytes.</summary>
    public static bool operator !=(WireGuardKey left, WireGuardKey right) => !left.Equals(right);
}
