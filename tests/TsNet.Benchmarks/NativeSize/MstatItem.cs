namespace TsNet.Benchmarks.NativeSize;

/// <summary>One sized entry of an mstat file (<see cref="MstatFile"/>): which section, whose, how many bytes.</summary>
internal sealed record MstatItem(string Section, string Assembly, string Namespace, string Type, long Bytes);
