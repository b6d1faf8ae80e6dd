using Microsoft.Extensions.Logging;

namespace TsNet.Derp;

/// <summary>DERP client log events (ids 1600–1619).</summary>
internal static partial class DerpLog
{
    [LoggerMessage(EventId = 1600, Level = LogLevel.Information, Message = "DERP region {RegionId} connected via node {Node} (server key {ServerKey})")]
    public static partial void Connected(ILogger logger, int regionId, string? node, string serverKey);

    [LoggerMessage(EventId = 1601, Level = LogLevel.Information, Message = "DERP region {RegionId}: connect failed ({Error}); retrying in {DelayMs} ms")]
    public static partial void ConnectFailed(ILogger logger, int regionId, string error, long delayMs);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Information, Message = "DERP region {RegionId}: connection ended ({Reason}); reconnecting in {DelayMs} ms")]
    public static partial void ConnectionEnded(ILogger logger, int regionId, string? reason, long delayMs);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Debug, Message = "DERP region {RegionId}: closed ({Reason})")]
    public static partial void RegionClosed(ILogger logger, int regionId, string reason);

    [LoggerMessage(EventId = 1604, Level = LogLevel.Warning, Message = "DERP region {RegionId}: server reports a problem: {Problem}")]
    public static partial void HealthProblem(ILogger logger, int regionId, string problem);

    [LoggerMessage(EventId = 1605, Level = LogLevel.Information, Message = "DERP region {RegionId}: server restarting; reconnecting in {ReconnectInMs} ms (trying for {TryForMs} ms)")]
    public static partial void Restarting(ILogger logger, int regionId, long reconnectInMs, long tryForMs);

    [LoggerMessage(EventId = 1606, Level = LogLevel.Debug, Message = "DERP region {RegionId}: server info version {Version}, rate limit {BytesPerSecond} B/s burst {Burst} B (not applied)")]
    public static partial void ServerInfo(ILogger logger, int regionId, int version, long bytesPerSecond, long burst);

    [LoggerMessage(EventId = 1607, Level = LogLevel.Warning, Message = "DERP region {RegionId}: the ServerInfo frame did not open; ignoring it")]
    public static partial void BadServerInfo(ILogger logger, int regionId);

    [LoggerMessage(EventId = 1608, Level = LogLevel.Warning, Message = "DERP region {RegionId}: no frame for {Seconds} s; reconnecting")]
    public static partial void ReadTimeout(ILogger logger, int regionId, long seconds);

    [LoggerMessage(EventId = 1609, Level = LogLevel.Warning, Message = "DERP: an event handler failed")]
    public static partial void HandlerFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 1611, Level = LogLevel.Debug, Message = "DERP region {RegionId}: peer {PeerKey} gone ({Reason})")]
    public static partial void PeerGone(ILogger logger, int regionId, string peerKey, DerpPeerGoneReason reason);

    [LoggerMessage(EventId = 1610, Level = LogLevel.Debug, Message = "DERP region {RegionId}: server health OK")]
    public static partial void HealthOk(ILogger logger, int regionId);
}
