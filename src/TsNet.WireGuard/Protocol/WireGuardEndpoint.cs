using System.Net;
using System.Security.Cryptography;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Routing;

namespace TsNet.WireGuard.Protocol;

/// <summary>
/// A WireGuard node as a sans-IO state machine: peers, the index table, cryptokey routing, handshakes, transport
/// crypto and timers. It has no sockets, tasks, locks or clock: callers pass <c>now</c> (100 ns ticks, monotonic)
/// and an <see cref="IWireGuardOutput"/>, and ask <see cref="NextDeadline"/> when to call <see cref="Poll"/>.
/// One thread owns an instance.
/// </summary>
/// <remarks>
/// Files by concern: <c>.Receive.cs</c> (datagram demux and transport open), <c>.Send.cs</c> (staging and
/// transport seal), <c>.Handshake.cs</c> (initiation/response/cookie), <c>.Keypairs.cs</c> (session rotation),
/// <c>.Timers.cs</c> (timer hooks and expiry handlers).
/// </remarks>
internal sealed partial class WireGuardEndpoint
{
    private readonly byte[] _privateKey;
    private readonly byte[] _publicKey = new byte[32];

    // The static key as libcrypto objects made once (two of a handshake's DHs use it); replaced with the key.
    private X25519StaticKey _staticKey;
    private readonly WireGuardEndpointOptions _options;
    private readonly WireGuardTimerSettings _timers;
    private readonly PacketBufferPool _pool;
    private readonly Dictionary<PublicKeyId, WireGuardPeer> _peers = new();
    private readonly AllowedIpsTable<WireGuardPeer> _allowedIps = new();
    private readonly IndexTable _indices = new();
    private CookieChecker _cookieChecker;
    private readonly HandshakeRateLimiter _rateLimiter = new();
    private readonly byte[] _lastTimestamp = new byte[Tai64N.Size];
    private long _underLoadUntil = Timestamps.Never;

    public WireGuardEndpoint(WireGuardEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _timers = options.Timers;
        _pool = options.Pool;
        _privateKey = options.PrivateKey.AsSpan().ToArray();
        X25519.DerivePublicKey(_privateKey, _publicKey);
        _staticKey = new X25519StaticKey(_privateKey);
        _cookieChecker = new CookieChecker(_publicKey);
    }

    public ReadOnlySpan<byte> PublicKey => _publicKey;

    public WireGuardCounters Counters { get; } = new();

    public IEnumerable<WireGuardPeer> Peers => _peers.Values;

    public int PeerCount => _peers.Count;

    internal IndexTable Indices => _indices;

    internal CookieChecker CookieChecker => _cookieChecker;

    public bool TryGetPeer(ReadOnlySpan<byte> publicKey, out WireGuardPeer? peer)
    {
        var found = _peers.TryGetValue(PublicKeyId.From(publicKey), out var p);
        peer = p;
        return found;
    }

    /// <summary>Adds a peer (or returns the existing one with this key).</summary>
    public WireGuardPeer AddPeer(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != 32)
        {
            throw new ArgumentException("A public key is 32 bytes.", nameof(publicKey));
        }

        if (publicKey.SequenceEqual(_publicKey))
        {
            throw new ArgumentException("A peer cannot have the node's own public key.", nameof(publicKey));
        }

        var id = PublicKeyId.From(publicKey);
        if (_peers.TryGetValue(id, out var existing))
        {
            return existing;
        }

        if (_peers.Count >= _options.MaxPeers)
        {
            throw new InvalidOperationException($"At most {_options.MaxPeers} peers.");
        }

        var peer = new WireGuardPeer(_privateKey, publicKey);
        _peers.Add(id, peer);
        return peer;
    }

    /// <summary>Replaces the peer's AllowedIPs (cryptokey routing entries).</summary>
    public void SetAllowedIps(WireGuardPeer peer, IEnumerable<(IPAddress Address, int PrefixLength)> prefixes)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(prefixes);
        _allowedIps.RemoveAll(peer);
        foreach (var (address, length) in prefixes)
        {
            _allowedIps.Insert(address, length, peer);
        }
    }

    /// <summary>The peer whose AllowedIPs hold <paramref name="address"/> (longest prefix), if any.</summary>
    public WireGuardPeer? LookupRoute(ReadOnlySpan<byte> address) => _allowedIps.Lookup(address);

    /// <summary>Sets the persistent keepalive interval (zero = off), arming it now if traffic already flowed.</summary>
    public void SetPersistentKeepalive(WireGuardPeer peer, TimeSpan interval, long now, IWireGuardOutput output)
    {
        ArgumentNullException.ThrowIfNull(peer);
        peer.PersistentKeepaliveInterval = interval < TimeSpan.Zero ? TimeSpan.Zero : interval;
        if (interval <= TimeSpan.Zero)
        {
            peer.Timers.PersistentKeepalive = Timestamps.NotArmed;
        }
        else
        {
            // As wg(8): setting a keepalive on a peer sends one right away, which also brings the session up.
            SendKeepalive(peer, now, output);
        }

        Reschedule(peer);
    }

    /// <summary>Removes a peer: wipes its keys, frees its indices and routes, drops its staged packets.</summary>
    public bool RemovePeer(ReadOnlySpan<byte> publicKey)
    {
        if (!_peers.Remove(PublicKeyId.From(publicKey), out var peer))
        {
            return false;
        }

        ZeroAndFlushAll(peer);
        _allowedIps.RemoveAll(peer);
        peer.Timers.DisarmAll();
        peer.Removed = true;
        return true;
    }

    /// <summary>Whether handshakes must currently carry a valid mac2 (wireguard.md §5 "under load").</summary>
    private bool IsUnderLoad(long now, int pendingHandshakes)
    {
        if (pendingHandshakes >= _options.UnderLoadThreshold)
        {
            _underLoadUntil = now + _timers.UnderLoadAfterTime.Ticks;
            return true;
        }

        return now < _underLoadUntil;
    }

    /// <summary>TAI64N now, strictly after the last one we sent so a fast clock step back cannot stall our initiations.</summary>
    private void NextTimestamp(Span<byte> destination)
    {
        Tai64N.Write(_options.WallClock.GetUtcNow(), destination);
        if (!Tai64N.IsAfter(destination, _lastTimestamp))
        {
            // Advance by one masked granule (2^24 ns) past the last timestamp.
            var seconds = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(_lastTimestamp);
            var nanos = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(_lastTimestamp.AsSpan(8)) + 0x1000000u;
            if (nanos >= 1_000_000_000u)
            {
                nanos = 0;
                seconds++;
            }

            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(destination, seconds);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(destination[8..], nanos);
        }

        destination[..Tai64N.Size].CopyTo(_lastTimestamp);
    }

    private long Jitter() => TimeSpan.FromMilliseconds(_options.Random.Next(0, Math.Max(1, (int)_timers.MaxTimerJitter.TotalMilliseconds))).Ticks;

    private static void GenerateEphemeral(Span<byte> privateKey) => X25519.GeneratePrivateKey(privateKey);

    private static void Wipe(Span<byte> secret) => CryptographicOperations.ZeroMemory(secret);
}
