using System.Net;

namespace TsNet;

/// <summary>
/// How a node reaches a peer through a UDP relay server (tailscale peer relay): the relay's address, its disco key,
/// the relay endpoint's VNI and the peer's disco key. Both nodes of a relay endpoint configure the path (each naming
/// the other's disco key); the node binds to the relay (disco bind handshake) and sends all WireGuard traffic for the
/// peer Geneve-encapsulated through it. Without a control plane the values come from
/// <see cref="UdpRelayServer.AllocateEndpoint"/> (see <see cref="FromEndpoint"/>) or the standalone relay's
/// allocation endpoint.
/// </summary>
public sealed class TailnetRelayPath
{
    /// <summary>The relay server's UDP address (one of <see cref="RelayEndpoint.AddressPorts"/>).</summary>
    public IPEndPoint? Address { get; set; }

    /// <summary>The relay server's disco public key (<see cref="RelayEndpoint.ServerDisco"/>).</summary>
    public DiscoKey ServerDiscoKey { get; set; }

    /// <summary>The relay endpoint's 24-bit VNI (1..2^24−1).</summary>
    public uint Vni { get; set; }

    /// <summary>The peer's disco public key (its <see cref="TailnetServer.DiscoPublicKey"/>): the other client of the relay endpoint.</summary>
    public DiscoKey PeerDiscoKey { get; set; }

    /// <summary>
    /// The path to <paramref name="peerDiscoKey"/> (one of the endpoint's two clients) through <paramref name="endpoint"/>,
    /// using the candidate address <paramref name="addressIndex"/> of <see cref="RelayEndpoint.AddressPorts"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="peerDiscoKey"/> is not a client of the endpoint.</exception>
    /// <exception cref="ArgumentOutOfRangeException">There is no address at <paramref name="addressIndex"/>.</exception>
    public static TailnetRelayPath FromEndpoint(RelayEndpoint endpoint, DiscoKey peerDiscoKey, int addressIndex = 0)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!IsClient(endpoint, peerDiscoKey))
        {
            throw new ArgumentException($"{peerDiscoKey} is not a client of relay endpoint vni {endpoint.Vni}.", nameof(peerDiscoKey));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(addressIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(addressIndex, endpoint.AddressPorts.Count);
        return new TailnetRelayPath
        {
            Address = endpoint.AddressPorts[addressIndex],
            ServerDiscoKey = endpoint.ServerDisco,
            Vni = endpoint.Vni,
            PeerDiscoKey = peerDiscoKey,
        };
    }

    internal TailnetRelayPath Clone() => new()
    {
        Address = Address is null ? null : new IPEndPoint(Address.Address, Address.Port),
        ServerDiscoKey = ServerDiscoKey,
        Vni = Vni,
        PeerDiscoKey = PeerDiscoKey,
    };

    /// <inheritdoc/>
    public override string ToString() => $"relay {Address} vni {Vni} server {ServerDiscoKey} peer {PeerDiscoKey}";

    // A loop, not LINQ's Contains: no enumerable code for DiscoKey in the native tool.
    private static bool IsClient(RelayEndpoint endpoint, DiscoKey discoKey)
    {
        foreach (var client in endpoint.ClientDisco)
        {
            if (client == discoKey)
            {
                return true;
            }
        }

        return false;
    }
}
