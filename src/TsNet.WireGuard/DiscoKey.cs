using System.Security.Cryptography;
using System.Text.Json.Serialization;
using TsNet.WireGuard.Crypto;

namespace TsNet;

/// <summary>
/// A 32-byte Curve25519 key of Tailscale's "disco" protocol (path discovery and peer-relay handshakes), private or
/// public. Its text form is tailscale's <c>discokey:</c> followed by 64 lowercase hex digits; print only public keys. In JSON it is that text.
/// </summary>
[JsonConverter(typeof(DiscoKeyJsonConverter))]
public readonly struct DiscoKey : IEquatable<DiscoKey>, IComparable<DiscoKey>
{
    /// <summary>Key length in bytes.</summary>
    public const int Size = 32;

    /// <summary>The prefix of the text form.</summary>
    public const string TextPrefix = "discokey:";

    private readonly byte[]? _bytes;

    /// <summary>Creates a key from 32 bytes (copied).</summary>
    /// <exception cref="ArgumentException">Not 32 bytes.</exception>
    public DiscoKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"A disco key is {Size} bytes, got {bytes.Length}.", nameof(bytes));
        }

        _bytes = bytes.ToArray();
    }

    /// <summary>The key bytes (all zero for <c>default</c>).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes is null ? new byte[Size] : _bytes;

    /// <summary>True for <c>default(DiscoKey)</c> or an all-zero key.</summary>
    public bool IsEmpty => _bytes is null || !_bytes.AsSpan().ContainsAnyExcept((byte)0);

    /// <summary>The public key of this private key (X25519 with the base point; the private key is clamped first).</summary>
    public DiscoKey PublicKey
    {
        get
        {
            Span<byte> pub = stackalloc byte[Size];
            X25519.DerivePublicKey(Bytes, pub);
            return new DiscoKey(pub);
        }
    }

    /// <summary>Generates a new clamped private key from a cryptographic random source (tailscale makes one per process start).</summary>
    public static DiscoKey Generate()
    {
        Span<byte> key = stackalloc byte[Size];
        X25519.GeneratePrivateKey(key);
        var result = new DiscoKey(key);
        CryptographicOperations.ZeroMemory(key);
        return result;
    }

    /// <summary>Parses <c>discokey:&lt;64 hex&gt;</c> (the prefix may be omitted; hex case is ignored).</summary>
    /// <exception cref="FormatException">Not a disco key.</exception>
    public static DiscoKey Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!TryParse(text, out var key))
        {
            throw new FormatException("A disco key is 'discokey:' followed by 64 hex digits.");
        }

        return key;
    }

    /// <summary>Parses <c>discokey:&lt;64 hex&gt;</c> (the prefix may be omitted); false when it is not a disco key.</summary>
    public static bool TryParse(string? text, out DiscoKey key)
    {
        key = default;
        if (text is null)
        {
            return false;
        }

        var span = text.AsSpan().Trim();
        if (span.StartsWith(TextPrefix, StringComparison.OrdinalIgnoreCase))
        {
            span = span[TextPrefix.Length..];
        }

        Span<byte> buffer = stackalloc byte[Size];
        if (span.Length != 2 * Size || Convert.FromHexString(span, buffer, out _, out var written) != System.Buffers.OperationStatus.Done || written != Size)
        {
            return false;
        }

        key = new DiscoKey(buffer);
        return true;
    }

    /// <summary>Tailscale's text form, <c>discokey:</c> followed by 64 lowercase hex digits.</summary>
    public override string ToString() => TextPrefix + Convert.ToHexStringLower(Bytes);

    /// <summary>Byte-wise (lexicographic) order, the order tailscale's relay server sorts a client pair in.</summary>
    public int CompareTo(DiscoKey other) => Bytes.SequenceCompareTo(other.Bytes);

    /// <inheritdoc/>
    public bool Equals(DiscoKey other) => Bytes.SequenceEqual(other.Bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is DiscoKey other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => BitConverter.ToInt32(Bytes);

    /// <summary>Equality of key bytes.</summary>
    public static bool operator ==(DiscoKey left, DiscoKey right) => left.Equals(right);

    /// <summary>Inequality of key bytes.</summary>
    public static bool operator !=(DiscoKey left, DiscoKey right) => !left.Equals(right);

    /// <summary>Byte-wise order.</summary>
    public static bool operator <(DiscoKey left, DiscoKey right) => left.CompareTo(right) < 0;

    /// <summary>Byte-wise order.</summary>
    public static bool operator >(DiscoKey left, DiscoKey right) => left.CompareTo(right) > 0;

    /// <summary>Byte-wise order.</summary>
    public static bool operator <=(DiscoKey left, DiscoKey right) => left.CompareTo(right) <= 0;

    /// <summary>Byte-wise order.</summary>
    public static bool operator >=(DiscoKey left, DiscoKey right) => left.CompareTo(right) >= 0;
}
