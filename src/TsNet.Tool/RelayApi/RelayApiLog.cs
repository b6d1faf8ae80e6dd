using Microsoft.Extensions.Logging;

namespace TsNet.Tool.RelayApi;

/// <summary>The relay allocation endpoint's log messages (event ids 2320–2339, stable).</summary>
internal static partial class RelayApiLog
{
    [LoggerMessage(EventId = 2320, Level = LogLevel.Information, Message = "relay allocation endpoint listening on http://{EndPoint}" + RelayAllocationHandler.Path)]
    public static partial void Listening(ILogger logger, string endPoint);

    [LoggerMessage(EventId = 2321, Level = LogLevel.Debug, Message = "{Remote}: {Method} {Target} -> {Status}")]
    public static partial void Request(ILogger logger, string remote, string method, string target, int status);

    [LoggerMessage(EventId = 2322, Level = LogLevel.Information, Message = "{Remote}: bad request ({Status}): {Reason}")]
    public static partial void BadRequest(ILogger logger, string remote, int status, string reason);

    [LoggerMessage(EventId = 2323, Level = LogLevel.Debug, Message = "{Remote}: connection ended: {Reason}")]
    public static partial void ConnectionEnded(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 2325, Level = LogLevel.Debug, Message = "allocated relay endpoint VNI {Vni} (Lamport id {LamportId})")]
    public static partial void Allocated(ILogger logger, uint vni, ulong lamportId);
}
