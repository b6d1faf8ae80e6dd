using System.Net;

namespace TsNet.Netstack.Sockets;

/// <summary>
/// Consulted for an inbound SYN that matches no listener, before the RST is sent: return a claim to accept the
/// flow or null to reject it with a RST. Runs on the netstack's task: it must be quick and must not block. The
/// destination may be any address, not only the node's own.
/// </summary>
internal delegate UnmatchedTcpFlowClaim? UnmatchedTcpFlowHandler(IPEndPoint source, IPEndPoint destination);

/// <summary>
/// A claimed flow's two possible ends, both called on the netstack's task: <paramref name="established"/> gets the
/// connection once the handshake completes; <paramref name="abandoned"/> runs instead when the connection goes away
/// before that (the peer never finished the handshake, or reset it), so whoever counts claimed flows can release them.
/// </summary>
internal sealed class UnmatchedTcpFlowClaim(Action<TcpStreamChannel> established, Action? abandoned = null)
{
    public void Established(TcpStreamChannel channel) => established(channel);

    public void Abandoned() => abandoned?.Invoke();
}
