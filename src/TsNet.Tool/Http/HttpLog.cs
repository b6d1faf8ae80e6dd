using Microsoft.Extensions.Logging;

namespace TsNet.Tool.Http;

/// <summary>The HTTP server's log messages (event ids 2000–2099, stable).</summary>
internal static partial class HttpLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Debug, Message = "{Remote}: {Method} {Target} -> {Status}")]
    public static partial void Request(ILogger logger, string remote, string method, string target, int status);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "{Remote}: bad request ({Status}): {Reason}")]
    public static partial void BadRequest(ILogger logger, string remote, int status, string reason);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "{Remote}: connection ended: {Reason}")]
    public static partial void ConnectionEnded(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "{Remote}: no progress within the head or idle timeout; closing")]
    public static partial void IdleTimeout(ILogger logger, string remote);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "{Remote}: request failed")]
    public static partial void Failed(ILogger logger, string remote, Exception exception);
}
