using System.Net;

namespace TsNet;

/// <summary>
/// A relay endpoint allocated on a <see cref="UdpRelayServer"/> for two clients (tailscale's <c>ServerEndpoint</c> /
/// disco <c>UDPRelayEndpoint</c>): what both clients need to bind to it and relay through it.
/// </summary>
public sealed class RelayEndpoint
{
    internal RelayEndpoint(DiscoKey serverDisco, DiscoKey client0, DiscoKey client1, ulong lamportId, uint vni, IReadOnlyList<IPEndPoint> addressPorts, TimeSpan bindLifetime, TimeSpan steadyStateLifetime)
    {
        ServerDisco = serverDisco;
        ClientDisco = [client0, client1];
        LamportId = lamportId;
        Vni = vni;
        AddressPorts = addressPorts;
        BindLifetime = bindLifetime;
        SteadyStateLifetime = steadyStateLifetime;
    }

    /// <summary>The relay server's disco public key (Bind and Answer are sealed to it).</summary>
    public DiscoKey ServerDisco { get; }

    /// <summary>The two clients' disco public keys in byte-wise sorted order (index 0 is the smaller).</summary>
    public IReadOnlyList<DiscoKey> ClientDisco { get; }

    /// <summary>
    /// Allocation id, strictly increasing per server (the first allocation is 1); clients keep the allocation with the
    /// larger id for the same server key. Returned unchanged for a pair that already had an endpoint.
    /// </summary>
    public ulong LamportId { get; }

    /// <summary>The 24-bit Geneve VNI naming this endpoint (1..2^24−1).</summary>
    public uint Vni { get; }

    /// <summary>Candidate server addresses to Bind to (operator-given ones first, then the server's own).</summary>
    public IReadOnlyList<IPEndPoint> AddressPorts { get; }

    /// <summary>Both legs must be bound within this time of allocation (30 s by default).</summary>
    public TimeSpan BindLifetime { get; }

    /// <summary>Once bound, the endpoint lives while neither leg is silent this long (5 min by default).</summary>
    public TimeSpan SteadyStateLifetime { get; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"vni={Vni} lamport={LamportId} server={ServerDisco} clients={ClientDisco[0]},{ClientDisco[1]} addrs={string.Join(",", AddressPorts)}";
}
