using Microsoft.Extensions.Logging;

namespace TsNet.AspNetCore;

// Event ids are stable: 1–99 belong to the Kestrel tailnet transport.
internal static partial class Log
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Kestrel is listening on the tailnet at {EndPoint}")]
    public static partial void Listening(ILogger logger, TailnetEndPoint endPoint);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Debug, Message = "Kestrel stopped listening on the tailnet at {EndPoint}")]
    public static partial void Unbound(ILogger logger, TailnetEndPoint endPoint);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Debug, Message = "Connection {ConnectionId} accepted on the tailnet from {RemoteEndPoint}")]
    public static partial void Accepted(ILogger logger, string connectionId, System.Net.IPEndPoint remoteEndPoint);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Debug, Message = "Connection {ConnectionId} aborted: {Reason}")]
    public static partial void Aborted(ILogger logger, string connectionId, string reason);
}
