namespace TsNet.Netstack;

/// <summary>Identifies an echo request awaiting its reply: remote address (an IPv4 address widened to 128 bits,
/// told apart by <paramref name="IsIpv6"/>), identifier and sequence number.</summary>
internal readonly record struct PendingEchoKey(UInt128 Remote, bool IsIpv6, ushort Identifier, ushort Sequence);
