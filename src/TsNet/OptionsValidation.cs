using System.Net.Sockets;

namespace TsNet;

/// <summary>Checks options and takes the private copy a server runs with (options are frozen at construction).</summary>
internal static class OptionsValidation
{
    /// <summary>Smallest MTU: every IPv4 host must accept 576-byte datagrams (RFC 791).</summary>
    public const int MinMtu = 576;

    /// <summary>Largest MTU: jumbo frames top out near 9000 bytes including our overhead.</summary>
    public const int MaxMtu = 9000;

    public static TailnetServerOptions Snapshot(TailnetServerOptions options)
    {
        if (options.PrivateKey.IsEmpty)
        {
            throw new ArgumentException("TailnetServerOptions.PrivateKey is required (generate one with WireGuardKey.Generate()).", nameof(options));
        }

        if (options.Addresses.Count == 0)
        {
            throw new ArgumentException("TailnetServerOptions.Addresses needs at least one overlay address, e.g. 100.64.0.2/32.", nameof(options));
        }

        foreach (var address in options.Addresses)
        {
            if (address.BaseAddress.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            {
                throw new ArgumentException($"Address {address} is neither IPv4 nor IPv6.", nameof(options));
            }
        }

        if (options.ListenPort is < 0 or > 65535)
        {
            throw new ArgumentException($"ListenPort {options.ListenPort} is outside 0-65535.", nameof(options));
        }

        if (options.Mtu is < MinMtu or > MaxMtu)
        {
            throw new ArgumentException($"Mtu {options.Mtu} is outside {MinMtu}-{MaxMtu}.", nameof(options));
        }

        if (options.QueueCapacity < 1)
        {
            throw new ArgumentException("QueueCapacity must be positive.", nameof(options));
        }

        ArgumentNullException.ThrowIfNull(options.LoggerFactory);
        ArgumentNullException.ThrowIfNull(options.TimeProvider);

        var copy = new TailnetServerOptions
        {
            PrivateKey = options.PrivateKey,
            ListenPort = options.ListenPort,
            Mtu = options.Mtu,
            LoggerFactory = options.LoggerFactory,
            TimeProvider = options.TimeProvider,
            QueueCapacity = options.QueueCapacity,
            TestHooks = options.TestHooks,
        };
        foreach (var address in options.Addresses)
        {
            copy.Addresses.Add(address);
        }

        var ownPublic = options.PrivateKey.PublicKey;
        var seen = new HashSet<WireGuardKey>();
        foreach (var peer in options.Peers)
        {
            var validated = ValidatePeer(peer, ownPublic);
            if (!seen.Add(validated.PublicKey))
            {
                throw new ArgumentException($"Peer {validated.PublicKey} is listed twice.", nameof(options));
            }

            copy.Peers.Add(validated);
        }

        return copy;
    }

    public static TailnetPeer ValidatePeer(TailnetPeer peer, WireGuardKey ownPublicKey)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (peer.PublicKey.IsEmpty)
        {
            throw new ArgumentException("A peer needs a PublicKey.", nameof(peer));
        }

        if (peer.PublicKey == ownPublicKey)
        {
            throw new ArgumentException("A peer cannot have the node's own public key.", nameof(peer));
        }

        if (peer.Endpoint is { } endpoint && !EndpointParser.TrySplit(endpoint, out _, out _, out var error))
        {
            throw new ArgumentException($"Peer {peer.PublicKey}: endpoint {error}.", nameof(peer));
        }

        if (peer.PersistentKeepalive is { } keepalive && (keepalive < TimeSpan.Zero || keepalive > TimeSpan.FromSeconds(65535)))
        {
            throw new ArgumentException($"Peer {peer.PublicKey}: PersistentKeepalive must be 0-65535 s.", nameof(peer));
        }

        return peer.Clone();
    }
}
