using Microsoft.Extensions.Logging;

namespace TsNet.Tool.LocalApi;

/// <summary>Log messages of the local API (event ids 1720–1729).</summary>
internal static partial class LocalApiLog
{
    [LoggerMessage(EventId = 1720, Level = LogLevel.Information, Message = "local status API on {Path} ('tsnet status' reads it)")]
    public static partial void Serving(ILogger logger, string path);

    [LoggerMessage(EventId = 1721, Level = LogLevel.Information, Message = "replaced {Path}, a socket no node answered on")]
    public static partial void ReplacedStaleSocket(ILogger logger, string path);

    [LoggerMessage(EventId = 1722, Level = LogLevel.Debug, Message = "local API request ended early: {Reason}")]
    public static partial void RequestFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 1724, Level = LogLevel.Information, Message = "no local status API: another node answers on {Path} (tsnet status reaches that one); give this one --socket PATH or --state DIR")]
    public static partial void DefaultSocketTaken(ILogger logger, string path);

    [LoggerMessage(EventId = 1723, Level = LogLevel.Warning, Message = "no local status API ({Reason}); the node runs on, and 'tsnet status' can reach it only once it is started with --socket PATH")]
    public static partial void NotServing(ILogger logger, string reason);
}
