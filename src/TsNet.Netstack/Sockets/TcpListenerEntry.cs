using System.Threading.Channels;
using TsNet.Netstack.Tcp;

namespace TsNet.Netstack.Sockets;

/// <summary>A listening TCP port: where established connections wait for <c>AcceptAsync</c>, and its backlog count.</summary>
internal sealed class TcpListenerEntry
{
    public TcpListenerEntry(ushort port, TcpAddress? address, int backlog)
    {
        Port = port;
        Address = address;
        Backlog = backlog;
        // The loop writes established connections, the app reads them; the bound is the backlog (checked at SYN
        // time together with the handshakes in progress), so TryWrite never fails for a counted connection.
        Accepted = Channel.CreateBounded<TcpStreamChannel>(new BoundedChannelOptions(backlog + 1) { SingleWriter = true });
    }

    public ushort Port { get; }

    /// <summary>Null: any of the node's addresses.</summary>
    public TcpAddress? Address { get; }

    public int Backlog { get; }

    /// <summary>Connections in SYN-RECEIVED for this listener.</summary>
    public int Handshaking { get; set; }

    /// <summary>Established connections waiting in <see cref="Accepted"/>.</summary>
    public int Queued => Accepted.Reader.CanCount ? Accepted.Reader.Count : 0;

    public Channel<TcpStreamChannel> Accepted { get; }

    public bool Closed { get; set; }
}
