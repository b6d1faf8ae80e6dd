namespace TsNet.Paths;

/// <summary>
/// A peer disco key with its precomputed NaCl box key (X25519 once per key, not per packet) and the peers that use it
/// (normally one; a node that re-registered may briefly appear twice).
/// </summary>
internal sealed class DiscoKeyEntry(Key32 key, byte[] sharedKey)
{
    public Key32 Key { get; } = key;

    /// <summary><c>crypto_box_beforenm</c>(my private, its public): seals and opens both directions.</summary>
    public byte[] SharedKey { get; } = sharedKey;

    public List<DiscoPeer> Peers { get; } = [];
}
