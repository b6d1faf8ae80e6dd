namespace TsNet.Tool.Http;

/// <summary>What a <c>Range</c> header asks of a file (<see cref="ByteRange.Parse"/>).</summary>
internal enum ByteRangeRequest
{
    /// <summary>Nothing usable: the whole file is served (200).</summary>
    None,

    /// <summary>One satisfiable range (206).</summary>
    Range,

    /// <summary>A range starting at or past the end (416).</summary>
    Unsatisfiable,
}
