using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using TsNet.Control.Protocol;
using TsNet.WireGuard.Crypto;

namespace TsNet.Control.Transport;

/// <summary>
/// The device's machine private key (the Noise IK static key towards control). Text form <c>privkey:</c> + 64 hex
/// digits, for persistence. Generated keys are clamped as Go does (X25519 clamps anyway; doc §2).
/// </summary>
internal sealed class MachinePrivateKey
{
    /// <summary>The text prefix of a machine private key.</summary>
    public const string Prefix = ControlKeyText.PrivatePrefix;

    private readonly byte[] _bytes;

    private MachinePrivateKey(byte[] bytes)
    {
        _bytes = bytes;
        byte[] publicKey = new byte[X25519.KeySize];
        X25519.DerivePublicKey(bytes, publicKey);
        PublicKey = MachinePublicKey.FromBytes(publicKey);
    }

    /// <summary>The matching public key (<c>mkey:</c>).</summary>
    public MachinePublicKey PublicKey { get; }

    /// <summary>The 32 private bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>A fresh random, clamped key.</summary>
    public static MachinePrivateKey Generate()
    {
        byte[] bytes = new byte[X25519.KeySize];
        X25519.GeneratePrivateKey(bytes);
        X25519.ClampPrivateKey(bytes);
        return new MachinePrivateKey(bytes);
    }

    /// <summary>A key from 32 raw bytes (used as given: X25519 clamps during multiplication).</summary>
    public static MachinePrivateKey FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != X25519.KeySize)
        {
            throw new ArgumentException($"machine keys are {X25519.KeySize} bytes", nameof(bytes));
        }

        return new MachinePrivateKey(bytes.ToArray());
    }

    /// <summary>Parses <c>privkey:</c> + exactly 64 hex digits.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out MachinePrivateKey? key)
    {
        key = null;
        var bytes = new byte[X25519.KeySize];
        if (text is null || !ControlKeyText.TryParseBytes(Prefix, text, bytes))
        {
            return false;
        }

        key = new MachinePrivateKey(bytes);
        return true;
    }

    /// <summary>The text form for persistence (secret: never log it).</summary>
    public string ToText() => Prefix + Convert.ToHexStringLower(_bytes);

    /// <summary>Does not reveal the key.</summary>
    public override string ToString() => $"MachinePrivateKey({PublicKey})";

    /// <summary>Overwrites the private bytes; the key is unusable afterwards.</summary>
    public void Clear() => CryptographicOperations.ZeroMemory(_bytes);
}
