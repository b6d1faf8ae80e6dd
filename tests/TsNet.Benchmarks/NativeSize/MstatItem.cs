namespace TsNet.Benchmarks.NativeSize;

/// <summary>One sized entry of an mstat file (<see cref="MstatFile"/>): which section, whose, what exactly (<paramref name="Name"/>, with generic arguments), how many bytes.</summary>
internal sealed record MstatItem(string Section, string Assembly, string Namespace, string Type, string Name, long Bytes);
