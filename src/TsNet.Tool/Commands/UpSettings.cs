namespace TsNet.Tool.Commands;

/// <summary>The validated options of <c>tsnet up</c>.</summary>
internal sealed record UpSettings(string ConfigFile, int? HttpPort, string? Www, IReadOnlyList<int> EchoPorts, IReadOnlyList<int> UdpEchoPorts, bool Verbose);
