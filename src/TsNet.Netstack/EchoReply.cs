using System.Net;

namespace TsNet.Netstack;

/// <summary>An echo reply that matched one of our pending echo requests.</summary>
/// <param name="Source">Who answered (the address the request was sent to).</param>
/// <param name="Identifier">Echo identifier.</param>
/// <param name="Sequence">Echo sequence number.</param>
/// <param name="ReceivedAt">The <c>now</c> the reply was processed at (TimeProvider timestamp).</param>
internal readonly record struct EchoReply(IPAddress Source, ushort Identifier, ushort Sequence, long ReceivedAt);
