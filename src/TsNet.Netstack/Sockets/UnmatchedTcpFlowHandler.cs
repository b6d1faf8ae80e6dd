using System.Net;

namespace TsNet.Netstack.Sockets;

/// <summary>
/// Consulted for an inbound SYN that matches no listener, before the RST is sent: return a callback to accept the
/// flow (it gets the connection once the handshake completes) or null to reject it with a RST. Runs on the netstack's
/// task: it must be quick and must not block. The destination may be any address, not only the node's own.
/// </summary>
internal delegate Action<TcpStreamChannel>? UnmatchedTcpFlowHandler(IPEndPoint source, IPEndPoint destination);
