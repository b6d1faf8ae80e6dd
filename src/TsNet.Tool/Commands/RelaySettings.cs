using System.Net;

namespace TsNet.Tool.Commands;

/// <summary>The validated options of <c>tsnet relay</c>.</summary>
/// <param name="Port">UDP port (0 = ephemeral; the <c>relay</c> line prints the actual one).</param>
/// <param name="BindAddresses">Addresses to bind (empty: the IPv4 and IPv6 wildcards).</param>
/// <param name="Advertised">Extra candidate addresses handed out with every allocation, listed first.</param>
/// <param name="Allocate">Loopback address of the HTTP allocation endpoint, or null for none.</param>
/// <param name="Verbose">Log debug messages.</param>
internal sealed record RelaySettings(int Port, IReadOnlyList<IPAddress> BindAddresses, IReadOnlyList<IPEndPoint> Advertised, IPEndPoint? Allocate, bool Verbose);
