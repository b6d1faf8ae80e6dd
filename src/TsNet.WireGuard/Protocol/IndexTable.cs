using System.Security.Cryptography;

namespace TsNet.WireGuard.Protocol;

/// <summary>
/// Maps our 32-bit receiver indices to the handshake or keypair they name. Indices are random (so they reveal
/// nothing), never 0 (kept for "unset"), and unique. Bounded by the peers it serves: at most one handshake and
/// three keypairs per peer.
/// </summary>
internal sealed class IndexTable
{
    private readonly Dictionary<uint, IndexEntry> _entries = new();

    public int Count => _entries.Count;

    /// <summary>Reserves a fresh random index for <paramref name="peer"/>'s handshake.</summary>
    public uint AddHandshake(WireGuardPeer peer)
    {
        Span<byte> random = stackalloc byte[4];
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            RandomNumberGenerator.Fill(random);
            var index = BitConverter.ToUInt32(random);
            if (index != 0 && _entries.TryAdd(index, new IndexEntry(peer, null)))
            {
                return index;
            }
        }

        throw new InvalidOperationException("No free receiver index.");
    }

    /// <summary>Points an index that named a handshake at the keypair derived from it.</summary>
    public void SwapForKeypair(uint index, Keypair keypair)
    {
        if (_entries.ContainsKey(index))
        {
            _entries[index] = new IndexEntry(keypair.Peer, keypair);
        }
    }

    public void Remove(uint index)
    {
        if (index != 0)
        {
            _entries.Remove(index);
        }
    }

    public bool TryGet(uint index, out IndexEntry entry) => _entries.TryGetValue(index, out entry);
}

/// <summary>What an index names: a peer's pending handshake (<see cref="Keypair"/> null) or one of its keypairs.</summary>
internal readonly record struct IndexEntry(WireGuardPeer Peer, Keypair? Keypair);
