namespace TsNet.Derp;

/// <summary>Why a DERP connection ended.</summary>
/// <param name="Error">What failed (null when it was closed on purpose).</param>
/// <param name="RestartIn">The server announced a restart: reconnect after this long.</param>
internal readonly record struct DerpConnectionEnd(string? Error, TimeSpan? RestartIn);
