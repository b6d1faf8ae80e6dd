using System.Collections.Concurrent;
using System.Security.Cryptography;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;

namespace TsNet.WireGuard.Relay;

/// <summary>
/// The sans-IO peer-relay server (tailscale's <c>net/udprelay</c>): the endpoint table, the Bind → Challenge → Answer
/// handshake and the forwarding decision, driven by explicit time (<c>now</c> in <see cref="RelayServerSettings.TimestampFrequency"/>
/// units). Thread-safe: packets may be handled on several threads at once. Lookup by VNI is a lock-free
/// <see cref="ConcurrentDictionary{TKey, TValue}"/> read; handshake state sits behind each endpoint's own lock; the
/// allocation lock is only taken to allocate and to collect, never across crypto.
/// </summary>
internal sealed class RelayServerCore
{
    /// <summary>Largest inner disco payload the server opens; Bind and Answer are 74 bytes, so this is generous.</summary>
    public const int MaxInnerLength = 1024;

    /// <summary>Size a reply buffer needs: Geneve, disco overhead and a Challenge.</summary>
    public const int MaxReplyLength = GeneveHeader.Length + DiscoPacket.Overhead + BindUdpRelayEndpointCommon.MessageLength;

    private readonly byte[] _privateKey;
    private readonly byte[] _publicKey;
    private readonly RelayServerSettings _settings;
    private readonly long _bindLifetime;
    private readonly long _steadyStateLifetime;
    private readonly long _secretRotation;
    private readonly ConcurrentDictionary<uint, RelayServerEndpoint> _byVni = new();
    private readonly Dictionary<(DiscoKey, DiscoKey), RelayServerEndpoint> _byPair = new();
    private readonly Lock _allocationLock = new();
    private readonly long[] _drops = new long[Enum.GetValues<UdpRelayDropReason>().Length];
    private ChallengeSecrets? _secrets;
    private uint _nextVni = 1;
    private ulong _lamportId;
    private bool _closed;
    private long _forwardedPackets;
    private long _forwardedBytes;
    private long _challengesSent;
    private long _legsBound;

    public RelayServerCore(ReadOnlySpan<byte> privateKey, RelayServerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (privateKey.Length != DiscoKey.Size)
        {
            throw new ArgumentException("Disco private keys are 32 bytes.", nameof(privateKey));
        }

        if (settings.MaxVni is 0 or > GeneveHeader.MaxVni)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), "MaxVni must be within 1..2^24-1.");
        }

        _privateKey = privateKey.ToArray();
        _publicKey = new byte[DiscoKey.Size];
        X25519.DerivePublicKey(_privateKey, _publicKey);
        PublicKey = new DiscoKey(_publicKey);
        _settings = settings;
        _bindLifetime = ToUnits(settings.BindLifetime);
        _steadyStateLifetime = ToUnits(settings.SteadyStateLifetime);
        _secretRotation = ToUnits(settings.ChallengeSecretRotation);
    }

    public DiscoKey PublicKey { get; }

    public RelayServerSettings Settings => _settings;

    /// <summary>Endpoints in the table (including expired ones not yet collected).</summary>
    public int EndpointCount => _byVni.Count;

    public long ForwardedPackets => Interlocked.Read(ref _forwardedPackets);

    public long ForwardedBytes => Interlocked.Read(ref _forwardedBytes);

    public long ChallengesSent => Interlocked.Read(ref _challengesSent);

    public long LegsBound => Interlocked.Read(ref _legsBound);

    public long Drops(UdpRelayDropReason reason) => Interlocked.Read(ref _drops[(int)reason]);

    public bool TryGetEndpoint(uint vni, out RelayServerEndpoint endpoint) => _byVni.TryGetValue(vni, out endpoint!);

    /// <summary>
    /// Returns the pair's endpoint, allocating one when there is none (or only an expired one). The pair is stored
    /// sorted; an existing endpoint comes back unchanged (same VNI, same Lamport id). The box keys are computed
    /// outside the lock; a racing allocation of the same pair returns the winner's endpoint.
    /// </summary>
    public RelayAllocationStatus Allocate(DiscoKey a, DiscoKey b, long now, out RelayServerEndpoint? endpoint)
    {
        endpoint = null;
        if (a == PublicKey || b == PublicKey)
        {
            return RelayAllocationStatus.ServerKey;
        }

        if (a == b)
        {
            return RelayAllocationStatus.InvalidKey;
        }

        var pair = a < b ? (a, b) : (b, a);
        lock (_allocationLock)
        {
            if (_closed)
            {
                return RelayAllocationStatus.Closed;
            }

            if (TryGetLive(pair, now, out endpoint))
            {
                return RelayAllocationStatus.Existing;
            }
        }

        var shared0 = new byte[NaClBox.KeySize];
        var shared1 = new byte[NaClBox.KeySize];
        if (!NaClBox.TryPrecompute(_privateKey, pair.Item1.Bytes, shared0) || !NaClBox.TryPrecompute(_privateKey, pair.Item2.Bytes, shared1))
        {
            return RelayAllocationStatus.InvalidKey;
        }

        lock (_allocationLock)
        {
            if (_closed)
            {
                return RelayAllocationStatus.Closed;
            }

            if (TryGetLive(pair, now, out endpoint))
            {
                return RelayAllocationStatus.Existing;
            }

            if (!TryPickVni(out var vni))
            {
                return RelayAllocationStatus.VniExhausted;
            }

            endpoint = new RelayServerEndpoint(vni, ++_lamportId, pair.Item1, pair.Item2, shared0, shared1, now);
            _byPair[pair] = endpoint;
            _byVni[vni] = endpoint;
            return RelayAllocationStatus.Allocated;
        }
    }

    /// <summary>Closes and removes expired endpoints, freeing their VNIs; returns how many.</summary>
    public int CollectGarbage(long now)
    {
        int freed = 0;
        lock (_allocationLock)
        {
            foreach (var endpoint in _byVni.Values)
            {
                bool expired;
                lock (endpoint.Gate)
                {
                    expired = endpoint.IsExpired(now, _bindLifetime, _steadyStateLifetime);
                    if (expired)
                    {
                        endpoint.Close();
                    }
                }

                if (expired)
                {
                    Remove(endpoint);
                    freed++;
                }
            }
        }

        return freed;
    }

    /// <summary>Closes every endpoint; later allocations fail with <see cref="RelayAllocationStatus.Closed"/>.</summary>
    public void Close()
    {
        lock (_allocationLock)
        {
            _closed = true;
            foreach (var endpoint in _byVni.Values)
            {
                lock (endpoint.Gate)
                {
                    endpoint.Close();
                }
            }

            _byVni.Clear();
            _byPair.Clear();
        }
    }

    /// <summary>
    /// Handles one datagram from <paramref name="from"/> (§4.1 of the protocol notes). For <see cref="RelayPacketOutcome.Reply"/>
    /// the reply is in <paramref name="reply"/> (at least <see cref="MaxReplyLength"/> bytes) and goes to
    /// <paramref name="destination"/>; for <see cref="RelayPacketOutcome.Forward"/> the datagram itself goes there.
    /// Never throws on packet contents.
    /// </summary>
    public RelayPacketOutcome HandlePacket(ReadOnlySpan<byte> packet, UnderlayAddress from, long now, Span<byte> reply, out int replyLength, out UnderlayAddress destination)
    {
        replyLength = 0;
        destination = default;
        if (StunMessage.IsBindingMessage(packet))
        {
            return Drop(UdpRelayDropReason.Stun);
        }

        if (!GeneveHeader.TryDecode(packet, out var geneve))
        {
            return Drop(UdpRelayDropReason.Malformed);
        }

        if (!_byVni.TryGetValue(geneve.Vni, out var endpoint))
        {
            return Drop(UdpRelayDropReason.UnknownVni);
        }

        return geneve.Control
            ? HandleControl(endpoint, geneve, packet[GeneveHeader.Length..], from, now, reply, out replyLength, out destination)
            : HandleData(endpoint, packet.Length, from, now, out destination);
    }

    private RelayPacketOutcome HandleData(RelayServerEndpoint endpoint, int length, UnderlayAddress from, long now, out UnderlayAddress destination)
    {
        destination = default;
        lock (endpoint.Gate)
        {
            if (endpoint.IsExpired(now, _bindLifetime, _steadyStateLifetime))
            {
                return Drop(UdpRelayDropReason.EndpointExpired);
            }

            if (!endpoint.IsBound)
            {
                return Drop(UdpRelayDropReason.NotBound);
            }

            int leg = endpoint.LegBoundTo(from);
            if (leg < 0)
            {
                return Drop(UdpRelayDropReason.UnknownSource);
            }

            endpoint.RecordForwarded(leg, length, now);
            destination = endpoint.BoundAddress(1 - leg);
        }

        Interlocked.Increment(ref _forwardedPackets);
        Interlocked.Add(ref _forwardedBytes, length);
        return RelayPacketOutcome.Forward;
    }

    private RelayPacketOutcome HandleControl(RelayServerEndpoint endpoint, GeneveHeader geneve, ReadOnlySpan<byte> payload, UnderlayAddress from, long now, Span<byte> reply, out int replyLength, out UnderlayAddress destination)
    {
        replyLength = 0;
        destination = default;
        if (geneve.Protocol != GeneveHeader.ProtocolDisco || !DiscoPacket.TryParse(payload, out var senderKey, out var nonce, out var box))
        {
            return Drop(UdpRelayDropReason.NotDisco);
        }

        int leg = endpoint.LegOf(senderKey);
        if (leg < 0)
        {
            return Drop(UdpRelayDropReason.UnknownSender);
        }

        int innerLength = box.Length - NaClBox.Overhead;
        if (innerLength < DiscoPacket.MessageHeaderLength || innerLength > MaxInnerLength)
        {
            return Drop(UdpRelayDropReason.MalformedMessage);
        }

        Span<byte> inner = stackalloc byte[MaxInnerLength];
        if (DiscoPacket.Open(endpoint.SharedKey(leg), nonce, box, inner) < 0)
        {
            return Drop(UdpRelayDropReason.DecryptFailed);
        }

        DiscoPacket.TryReadMessageHeader(inner[..innerLength], out var type, out _, out var body);
        if (type is not (DiscoMessageType.BindUdpRelayEndpoint or DiscoMessageType.BindUdpRelayEndpointAnswer))
        {
            return Drop(UdpRelayDropReason.UnexpectedMessage);
        }

        if (!BindUdpRelayEndpointCommon.TryParse(body, out var common))
        {
            return Drop(UdpRelayDropReason.MalformedMessage);
        }

        int other = 1 - leg;
        if (common.Vni != endpoint.Vni || common.Generation == 0 || !((ReadOnlySpan<byte>)common.RemoteKey).SequenceEqual(endpoint.ClientKey(other)))
        {
            return Drop(UdpRelayDropReason.InvalidBind);
        }

        return type == DiscoMessageType.BindUdpRelayEndpoint
            ? HandleBind(endpoint, leg, ref common, from, now, reply, out replyLength, out destination)
            : HandleAnswer(endpoint, leg, ref common, from, now);
    }

    private RelayPacketOutcome HandleBind(RelayServerEndpoint endpoint, int leg, ref BindUdpRelayEndpointCommon common, UnderlayAddress from, long now, Span<byte> reply, out int replyLength, out UnderlayAddress destination)
    {
        replyLength = 0;
        destination = default;
        lock (endpoint.Gate)
        {
            if (endpoint.IsExpired(now, _bindLifetime, _steadyStateLifetime))
            {
                return Drop(UdpRelayDropReason.EndpointExpired);
            }

            // A new Bind does not undo an existing binding: forwarding continues until an Answer rebinds.
            endpoint.BeginBind(leg, common.Generation);
        }

        var secrets = CurrentSecrets(now);
        RelayChallengeMac.Compute(secrets.Current, common.Vni, common.Generation, common.RemoteKey, from, common.Challenge);
        Span<byte> inner = stackalloc byte[BindUdpRelayEndpointCommon.MessageLength];
        common.WriteMessage(DiscoMessageType.BindUdpRelayEndpointChallenge, inner);
        new GeneveHeader(0, true, GeneveHeader.ProtocolDisco, endpoint.Vni).Encode(reply);
        replyLength = GeneveHeader.Length + DiscoPacket.Seal(_publicKey, endpoint.SharedKey(leg), inner, reply[GeneveHeader.Length..]);
        destination = from;
        Interlocked.Increment(ref _challengesSent);
        return RelayPacketOutcome.Reply;
    }

    private RelayPacketOutcome HandleAnswer(RelayServerEndpoint endpoint, int leg, ref BindUdpRelayEndpointCommon common, UnderlayAddress from, long now)
    {
        lock (endpoint.Gate)
        {
            if (endpoint.IsExpired(now, _bindLifetime, _steadyStateLifetime))
            {
                return Drop(UdpRelayDropReason.EndpointExpired);
            }

            if (endpoint.InProgressGeneration(leg) != common.Generation)
            {
                return Drop(UdpRelayDropReason.StaleAnswer);
            }
        }

        // The MAC covers the source, so only the address the Challenge went to can answer; no per-Bind state needed.
        var secrets = CurrentSecrets(now);
        Span<byte> expected = stackalloc byte[RelayChallengeMac.Length];
        ReadOnlySpan<byte> challenge = common.Challenge;
        RelayChallengeMac.Compute(secrets.Current, common.Vni, common.Generation, common.RemoteKey, from, expected);
        bool valid = expected.SequenceEqual(challenge);
        if (!valid && secrets.Previous is not null)
        {
            RelayChallengeMac.Compute(secrets.Previous, common.Vni, common.Generation, common.RemoteKey, from, expected);
            valid = expected.SequenceEqual(challenge);
        }

        if (!valid)
        {
            return Drop(UdpRelayDropReason.ChallengeMismatch);
        }

        lock (endpoint.Gate)
        {
            if (endpoint.IsExpired(now, _bindLifetime, _steadyStateLifetime))
            {
                return Drop(UdpRelayDropReason.EndpointExpired);
            }

            if (endpoint.InProgressGeneration(leg) != common.Generation)
            {
                return Drop(UdpRelayDropReason.StaleAnswer);
            }

            endpoint.CompleteBind(leg, from, now);
        }

        Interlocked.Increment(ref _legsBound);
        return RelayPacketOutcome.Consumed;
    }

    private bool TryGetLive((DiscoKey, DiscoKey) pair, long now, out RelayServerEndpoint? endpoint)
    {
        if (_byPair.TryGetValue(pair, out var existing))
        {
            bool expired;
            lock (existing.Gate)
            {
                expired = existing.IsExpired(now, _bindLifetime, _steadyStateLifetime);
                if (expired)
                {
                    existing.Close();
                }
            }

            if (!expired)
            {
                endpoint = existing;
                return true;
            }

            // Expired but not yet collected: free it now so the pair gets a fresh endpoint.
            Remove(existing);
        }

        endpoint = null;
        return false;
    }

    // Sequential selection with wraparound (RFC 6056 §3.3.1 style, as tailscale does since 2025-11): predictable,
    // minimal reuse, and nothing materialised up front. Callers hold the allocation lock.
    private bool TryPickVni(out uint vni)
    {
        for (uint tries = 0; tries < _settings.MaxVni; tries++)
        {
            vni = _nextVni;
            _nextVni = _nextVni >= _settings.MaxVni ? 1 : _nextVni + 1;
            if (!_byVni.ContainsKey(vni))
            {
                return true;
            }
        }

        vni = 0;
        return false;
    }

    private void Remove(RelayServerEndpoint endpoint)
    {
        _byVni.TryRemove(new KeyValuePair<uint, RelayServerEndpoint>(endpoint.Vni, endpoint));
        var pair = (endpoint.Client0, endpoint.Client1);
        if (_byPair.TryGetValue(pair, out var current) && ReferenceEquals(current, endpoint))
        {
            _byPair.Remove(pair);
        }
    }

    private ChallengeSecrets CurrentSecrets(long now)
    {
        while (true)
        {
            var secrets = Volatile.Read(ref _secrets);
            if (secrets is not null && now - secrets.CreatedAt <= _secretRotation)
            {
                return secrets;
            }

            var fresh = new ChallengeSecrets(RandomNumberGenerator.GetBytes(RelayChallengeMac.SecretLength), secrets?.Current, now);
            if (Interlocked.CompareExchange(ref _secrets, fresh, secrets) == secrets)
            {
                return fresh;
            }
        }
    }

    private RelayPacketOutcome Drop(UdpRelayDropReason reason)
    {
        Interlocked.Increment(ref _drops[(int)reason]);
        return RelayPacketOutcome.Dropped;
    }

    private long ToUnits(TimeSpan span) => (long)(span.TotalSeconds * _settings.TimestampFrequency);

    /// <summary>The current MAC secret and the one before it (a challenge stays valid for one to two rotation periods).</summary>
    private sealed record ChallengeSecrets(byte[] Current, byte[]? Previous, long CreatedAt);
}
