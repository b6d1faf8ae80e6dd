using Microsoft.Extensions.Logging;

namespace TsNet.AspNetCore;

// Event ids are stable: 1–99 belong to the Kestrel tailnet transport.
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Kestrel is listening on the tailnet at {EndPoint}")]
    public static partial void Listening(ILogger logger, TailnetEndPoint endPoint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Kestrel stopped listening on the tailnet at {EndPoint}")]
    public static partial void Unbound(ILogger logger, TailnetEndPoint endPoint);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Connection {ConnectionId} accepted on the tailnet from {RemoteEndPoint}")]
    public static partial void Accepted(ILogger logger, string connectionId, System.Net.IPEndPoint remoteEndPoint);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Connection {ConnectionId} aborted: {Reason}")]
    public static partial void Aborted(ILogger logger, string connectionId, string reason);
}
