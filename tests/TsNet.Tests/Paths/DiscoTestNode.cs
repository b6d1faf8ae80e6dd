using System.Net;
using TsNet.Paths;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.Paths;

/// <summary>One node of a <see cref="DiscoTestNetwork"/>: its core, keys, addresses and everything it sent.</summary>
internal sealed class DiscoTestNode : IPathOutput
{
    private readonly DiscoTestNetwork _network;

    public DiscoTestNode(DiscoTestNetwork network, string name, UnderlayAddress[] addresses, Action<Span<byte>> random)
    {
        _network = network;
        Name = name;
        Addresses = addresses;
        DiscoPrivate = new byte[32];
        random(DiscoPrivate);
        NodeKey = new byte[32];
        random(NodeKey);
        Core = new DiscoPathCore(DiscoPrivate, NodeKey, network.Timings, random);
    }

    public string Name { get; }

    /// <summary>Where this node receives UDP; the first is also the source of what it sends.</summary>
    public UnderlayAddress[] Addresses { get; }

    public UnderlayAddress Address => Addresses[0];

    public byte[] DiscoPrivate { get; }

    public byte[] NodeKey { get; }

    public DiscoPathCore Core { get; }

    public List<(UnderlayAddress To, byte[] Datagram)> UdpSent { get; } = [];

    public List<(int Region, byte[] NodeKey, byte[] Datagram)> DerpSent { get; } = [];

    /// <summary>Registers <paramref name="peer"/> in this node's core as the netmap would; returns its id.</summary>
    public uint Knows(DiscoTestNode peer, int homeRegion = DiscoTestNetwork.Region, params string[] endpoints) =>
        Core.SetPeer(peer.NodeKey, new DiscoKey(peer.DiscoPublic), homeRegion,
            endpoints.Length == 0 ? [peer.Address.ToIPEndPoint()] : endpoints.Select(IPEndPoint.Parse).ToArray(), _network.Now);

    public byte[] DiscoPublic => Core.DiscoPublicKey.Bytes.ToArray();

    /// <summary>What the magic layer does per WireGuard datagram.</summary>
    public PathChoice Send(uint peerId) => Core.ChooseSend(peerId, _network.Now, this);

    public void SendUdp(in UnderlayAddress destination, ReadOnlySpan<byte> datagram)
    {
        var copy = datagram.ToArray();
        UdpSent.Add((destination, copy));
        _network.SendUdp(this, destination, copy);
    }

    public void SendDerp(int regionId, ReadOnlySpan<byte> nodeKey, ReadOnlySpan<byte> datagram)
    {
        var copy = datagram.ToArray();
        DerpSent.Add((regionId, nodeKey.ToArray(), copy));
        _network.SendDerp(this, regionId, nodeKey.ToArray(), copy);
    }

    public override string ToString() => Name;
}
