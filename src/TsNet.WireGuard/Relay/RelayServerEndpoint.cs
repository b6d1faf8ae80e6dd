using TsNet.WireGuard.Protocol;

namespace TsNet.WireGuard.Relay;

/// <summary>
/// One relay endpoint: the sorted client pair, their precomputed box keys (immutable after creation, so crypto runs
/// without a lock) and the per-leg handshake state, guarded by the endpoint's own small lock (never held across crypto).
/// Leg i is the client at position i of the sorted pair.
/// </summary>
internal sealed class RelayServerEndpoint
{
    private readonly byte[] _clientKey0;
    private readonly byte[] _clientKey1;
    private readonly byte[] _sharedKey0;
    private readonly byte[] _sharedKey1;
    private readonly uint[] _inProgressGeneration = new uint[2];
    private readonly UnderlayAddress[] _bound = new UnderlayAddress[2];
    private readonly long[] _lastSeen = new long[2];
    private readonly long[] _forwardedPackets = new long[2];
    private readonly long[] _forwardedBytes = new long[2];
    private bool _closed;

    public RelayServerEndpoint(uint vni, ulong lamportId, DiscoKey client0, DiscoKey client1, byte[] sharedKey0, byte[] sharedKey1, long allocatedAt)
    {
        Vni = vni;
        LamportId = lamportId;
        Client0 = client0;
        Client1 = client1;
        _clientKey0 = client0.Bytes.ToArray();
        _clientKey1 = client1.Bytes.ToArray();
        _sharedKey0 = sharedKey0;
        _sharedKey1 = sharedKey1;
        AllocatedAt = allocatedAt;
    }

    public Lock Gate { get; } = new();

    public uint Vni { get; }

    public ulong LamportId { get; }

    /// <summary>The smaller key of the pair (byte-wise).</summary>
    public DiscoKey Client0 { get; }

    /// <summary>The larger key of the pair.</summary>
    public DiscoKey Client1 { get; }

    public long AllocatedAt { get; }

    public ReadOnlySpan<byte> ClientKey(int leg) => leg == 0 ? _clientKey0 : _clientKey1;

    public ReadOnlySpan<byte> SharedKey(int leg) => leg == 0 ? _sharedKey0 : _sharedKey1;

    /// <summary>0 or 1 for a client's key, −1 for any other key.</summary>
    public int LegOf(ReadOnlySpan<byte> senderKey) =>
        senderKey.SequenceEqual(_clientKey0) ? 0 : senderKey.SequenceEqual(_clientKey1) ? 1 : -1;

    // ---- state below: callers hold Gate ----

    public bool IsClosed => _closed;

    public bool IsBound => _bound[0].IsSet && _bound[1].IsSet;

    public void Close() => _closed = true;

    public uint InProgressGeneration(int leg) => _inProgressGeneration[leg];

    public void BeginBind(int leg, uint generation) => _inProgressGeneration[leg] = generation;

    public void CompleteBind(int leg, UnderlayAddress from, long now)
    {
        _bound[leg] = from;
        _lastSeen[leg] = now;
        _inProgressGeneration[leg] = 0;
    }

    public UnderlayAddress BoundAddress(int leg) => _bound[leg];

    /// <summary>The leg bound to <paramref name="from"/>, or −1.</summary>
    public int LegBoundTo(UnderlayAddress from) => _bound[0] == from ? 0 : _bound[1] == from ? 1 : -1;

    public void RecordForwarded(int leg, int bytes, long now)
    {
        _lastSeen[leg] = now;
        _forwardedPackets[leg]++;
        _forwardedBytes[leg] += bytes;
    }

    public (long Packets, long Bytes) Forwarded(int leg) => (_forwardedPackets[leg], _forwardedBytes[leg]);

    /// <summary>
    /// Unbound (either leg): expired once <paramref name="bindLifetime"/> has passed since allocation. Bound: expired when
    /// either leg has been silent for more than <paramref name="steadyStateLifetime"/>.
    /// </summary>
    public bool IsExpired(long now, long bindLifetime, long steadyStateLifetime)
    {
        if (_closed)
        {
            return true;
        }

        if (!IsBound)
        {
            return now - AllocatedAt > bindLifetime;
        }

        return now - _lastSeen[0] > steadyStateLifetime || now - _lastSeen[1] > steadyStateLifetime;
    }
}
