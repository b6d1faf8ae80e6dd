namespace TsNet.Tool.LocalApi;

/// <summary>One ping reply as the node reports it.</summary>
/// <param name="Name">The peer's name (its configured or DNS name; the address when it has none).</param>
/// <param name="Address">The address pinged.</param>
/// <param name="Path">The path the peer's packets take (<c>direct 1.2.3.4:41641</c>, <c>derp fra</c>, ...); <c>unknown</c> when the node does not know.</param>
/// <param name="Milliseconds">The round-trip time.</param>
internal sealed record PingReply(string Name, string Address, string Path, double Milliseconds);
