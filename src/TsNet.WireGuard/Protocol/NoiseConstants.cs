using TsNet.WireGuard.Crypto;

namespace TsNet.WireGuard.Protocol;

/// <summary>Protocol strings and the chaining-key/hash values derived from them (wireguard.md §1).</summary>
internal static class NoiseConstants
{
    public static ReadOnlySpan<byte> Construction => "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8;
    public static ReadOnlySpan<byte> Identifier => "WireGuard v1 zx2c4 Jason@zx2c4.com"u8;
    public static ReadOnlySpan<byte> LabelMac1 => "mac1----"u8;
    public static ReadOnlySpan<byte> LabelCookie => "cookie--"u8;

    private static readonly byte[] s_initialChainKey = ComputeInitialChainKey();
    private static readonly byte[] s_initialHash = ComputeInitialHash();

    /// <summary>C0 = HASH(CONSTRUCTION).</summary>
    public static ReadOnlySpan<byte> InitialChainKey => s_initialChainKey;

    /// <summary>H0 = HASH(C0 ‖ IDENTIFIER).</summary>
    public static ReadOnlySpan<byte> InitialHash => s_initialHash;

    private static byte[] ComputeInitialChainKey()
    {
        var c0 = new byte[Blake2s.HashSize];
        Blake2s.Hash(Construction, c0);
        return c0;
    }

    private static byte[] ComputeInitialHash()
    {
        var h0 = new byte[Blake2s.HashSize];
        Blake2s.Hash(ComputeInitialChainKey(), Identifier, h0);
        return h0;
    }

    /// <summary>HASH(label ‖ publicKey): the mac1 and cookie keys.</summary>
    public static byte[] DeriveLabelKey(ReadOnlySpan<byte> label, ReadOnlySpan<byte> publicKey)
    {
        var key = new byte[Blake2s.HashSize];
        Blake2s.Hash(label, publicKey, key);
        return key;
    }

}
