using System.Net;

namespace TsNet;

/// <summary>
/// Decides, at SYN time, what happens to an inbound TCP flow that matches no listener: decline (ask the next
/// handler), reject (RST), or accept with a callback that serves the connection. Runs on the node's network task for
/// every such SYN: it must be quick and must not block (do the work in the accepted callback instead).
/// </summary>
/// <param name="source">The peer's overlay address and port.</param>
/// <param name="destination">The address and port the flow was sent to: one of the node's addresses, or any other
/// address the peer routes to this node (subnet-router and app-connector style).</param>
public delegate FallbackDecision FallbackTcpHandler(IPEndPoint source, IPEndPoint destination);
