using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TsNet.Configuration;

namespace TsNet;

/// <summary>Checks options and takes the private copy a server runs with (options are frozen at construction).</summary>
internal static partial class OptionsValidation
{
    /// <summary>Smallest MTU: every IPv4 host must accept 576-byte datagrams (RFC 791).</summary>
    public const int MinMtu = 576;

    /// <summary>Largest MTU: jumbo frames top out near 9000 bytes including our overhead.</summary>
    public const int MaxMtu = 9000;

    /// <summary>Largest queue between loops: the netstack allocates its outbound queue at this size up front, and 64 Ki
    /// MTU-sized packets (about 128 MiB of pooled buffers) already hold seconds of traffic at Gbit/s rates.</summary>
    public const int MaxQueueCapacity = 65536;

    public static TailnetServerOptions Snapshot(TailnetServerOptions options)
    {
        var control = ValidateControlMode(options);
        var hasKey = !options.PrivateKey.IsEmpty;
        if (hasKey && options.StateDirectory is not null)
        {
            throw new ArgumentException(
                "Set either TailnetServerOptions.PrivateKey or TailnetServerOptions.StateDirectory, not both: with a state directory the node keeps its own key in <dir>/node.key.",
                nameof(options));
        }

        if (!hasKey && options.StateDirectory is null && control is null)
        {
            throw new ArgumentException(
                "TailnetServerOptions.PrivateKey or TailnetServerOptions.StateDirectory is required (generate a key with WireGuardKey.Generate(), or name a directory where the node keeps one).",
                nameof(options));
        }

        if (options.StateDirectory is { } directory && string.IsNullOrWhiteSpace(directory))
        {
            throw new ArgumentException("TailnetServerOptions.StateDirectory is empty; give a directory path or leave it null.", nameof(options));
        }

        if (options.Addresses.Count == 0 && control is null)
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

        if (options.QueueCapacity is < 1 or > MaxQueueCapacity)
        {
            throw new ArgumentException($"QueueCapacity {options.QueueCapacity} is outside 1-{MaxQueueCapacity}.", nameof(options));
        }

        ArgumentNullException.ThrowIfNull(options.LoggerFactory);
        ArgumentNullException.ThrowIfNull(options.TimeProvider);
        ArgumentNullException.ThrowIfNull(options.Limits);
        var limits = options.Limits.Validated();
        var dnsSuffix = options.DnsSuffix is { } suffix ? NormalizeDnsSuffix(suffix) : null;

        // Last of the checks on the options themselves, so that invalid options never create files.
        // Control mode keeps its node key in the control state (ControlStateStore), loaded by the server itself.
        var privateKey = options.StateDirectory is { } stateDirectory && control is null
            ? NodeKeyStore.LoadOrCreate(stateDirectory, options.LoggerFactory.CreateLogger("TsNet.TailnetServer"))
            : options.PrivateKey;

        var copy = new TailnetServerOptions
        {
            PrivateKey = privateKey,
            DiscoKey = options.DiscoKey.IsEmpty ? DiscoKey.Generate() : options.DiscoKey,
            StateDirectory = options.StateDirectory,
            DnsSuffix = dnsSuffix,
            ListenPort = options.ListenPort,
            Mtu = options.Mtu,
            LoggerFactory = options.LoggerFactory,
            TimeProvider = options.TimeProvider,
            QueueCapacity = options.QueueCapacity,
            Limits = limits,
            TestHooks = options.TestHooks,
        };
        control?.CopyTo(copy);
        foreach (var address in options.Addresses)
        {
            copy.Addresses.Add(address);
        }

        var ownPublic = privateKey.IsEmpty ? default : privateKey.PublicKey; // empty in control mode (no peers here)
        var seen = new HashSet<WireGuardKey>();
        foreach (var peer in options.Peers)
        {
            var validated = ValidatePeer(peer, ownPublic);
            if (!seen.Add(validated.PublicKey))
            {
                throw new ArgumentException($"Peer {validated.PublicKey} is listed twice.", nameof(options));
            }

            EnsureRelayPathUnused(copy.Peers, validated);
            copy.Peers.Add(validated);
        }

        return copy;
    }

    /// <summary>
    /// Two peers on the same relay endpoint (relay address + VNI) could not be told apart: inbound relayed packets are
    /// attributed by that pair, so the second would silently take over the first's path.
    /// </summary>
    public static void EnsureRelayPathUnused(IEnumerable<TailnetPeer> others, TailnetPeer peer)
    {
        if (peer.Relay is not { } relay)
        {
            return;
        }

        foreach (var other in others)
        {
            if (other.PublicKey != peer.PublicKey && other.Relay is { } taken && taken.Vni == relay.Vni && Equals(taken.Address, relay.Address))
            {
                throw new ArgumentException(
                    $"Peer {peer.PublicKey}: relay endpoint {relay.Address} VNI {relay.Vni} is already the path of peer {other.PublicKey}; each relay endpoint joins one pair of nodes.",
                    nameof(peer));
            }
        }
    }

    /// <summary>Drops one leading and one trailing dot and checks the rest is a DNS name.</summary>
    private static string NormalizeDnsSuffix(string suffix)
    {
        var trimmed = suffix.Trim();
        trimmed = trimmed.StartsWith('.') ? trimmed[1..] : trimmed;
        trimmed = trimmed.EndsWith('.') ? trimmed[..^1] : trimmed;
        if (!DnsName.IsValid(trimmed))
        {
            throw new ArgumentException(
                $"DnsSuffix '{suffix}' is not a DNS name: use labels of letters, digits and inner hyphens joined by dots, e.g. tailnet.example.",
                "options");
        }

        return trimmed;
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

        if (peer.Relay is { } relay)
        {
            ValidateRelayPath(peer, relay);
        }

        return peer.Clone();
    }

    private static void ValidateRelayPath(TailnetPeer peer, TailnetRelayPath relay)
    {
        var peerKey = peer.PublicKey;
        if (relay.Address is not { } address)
        {
            throw new ArgumentException($"Peer {peerKey}: Relay.Address is required (the relay server's UDP address).", nameof(peer));
        }

        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) || address.Port is < 1 or > 65535
            || address.Address.Equals(System.Net.IPAddress.Any) || address.Address.Equals(System.Net.IPAddress.IPv6Any))
        {
            throw new ArgumentException($"Peer {peerKey}: Relay.Address {address} is not a unicast IPv4/IPv6 address with a port 1-65535.", nameof(peer));
        }

        if (relay.Vni is 0 or > (1u << 24) - 1)
        {
            throw new ArgumentException($"Peer {peerKey}: Relay.Vni {relay.Vni} is outside 1-16777215 (24 bits, 0 is never allocated).", nameof(peer));
        }

        if (relay.ServerDiscoKey.IsEmpty || relay.PeerDiscoKey.IsEmpty)
        {
            throw new ArgumentException($"Peer {peerKey}: Relay.ServerDiscoKey and Relay.PeerDiscoKey are required.", nameof(peer));
        }

        if (relay.ServerDiscoKey == relay.PeerDiscoKey)
        {
            throw new ArgumentException($"Peer {peerKey}: Relay.PeerDiscoKey equals Relay.ServerDiscoKey.", nameof(peer));
        }
    }
}
