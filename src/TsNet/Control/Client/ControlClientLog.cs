using Microsoft.Extensions.Logging;

namespace TsNet.Control.Client;

/// <summary>The control client's log lines (event ids 1500–1599).</summary>
internal static partial class ControlClientLog
{
    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Registered with {ControlUrl} as {NodeKey}")]
    public static partial void Registered(ILogger logger, Uri controlUrl, string nodeKey);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "The control server refused the node: {Message}")]
    public static partial void LoginRefused(ILogger logger, string message);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Information, Message = "Login required: visit {AuthUrl}")]
    public static partial void LoginRequired(ILogger logger, Uri authUrl);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Information, Message = "The stored login was not accepted ({Reason}); registering with the auth key")]
    public static partial void StoredLoginNotAccepted(ILogger logger, string? reason);

    [LoggerMessage(EventId = 1504, Level = LogLevel.Information, Message = "Node key expired; registering a new node key {NodeKey}")]
    public static partial void NodeKeyRotated(ILogger logger, string nodeKey);

    [LoggerMessage(EventId = 1505, Level = LogLevel.Information, Message = "Map stream to {ControlUrl} is up")]
    public static partial void StreamUp(ILogger logger, Uri controlUrl);

    [LoggerMessage(EventId = 1506, Level = LogLevel.Warning, Message = "Control connection to {ControlUrl} failed; retrying in {DelayMs} ms")]
    public static partial void ConnectionFailed(ILogger logger, Exception error, Uri controlUrl, long delayMs);

    [LoggerMessage(EventId = 1507, Level = LogLevel.Information, Message = "The control server does not know this node any more ({Reason}); registering again")]
    public static partial void NodeUnknown(ILogger logger, string reason);

    [LoggerMessage(EventId = 1508, Level = LogLevel.Information, Message = "The control server has a new key (a restart?); registering again")]
    public static partial void ServerKeyChanged(ILogger logger);

    [LoggerMessage(EventId = 1509, Level = LogLevel.Debug, Message = "Lite map update sent ({Count} endpoints)")]
    public static partial void LiteUpdateSent(ILogger logger, int count);

    [LoggerMessage(EventId = 1510, Level = LogLevel.Warning, Message = "Lite map update failed (the next map poll carries the endpoints)")]
    public static partial void LiteUpdateFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 1511, Level = LogLevel.Information, Message = "Logged out of {ControlUrl}")]
    public static partial void LoggedOut(ILogger logger, Uri controlUrl);

    [LoggerMessage(EventId = 1512, Level = LogLevel.Warning, Message = "Ephemeral node's logout on dispose failed (the server removes it after its grace period)")]
    public static partial void EphemeralLogoutFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 1513, Level = LogLevel.Error, Message = "The control session failed and stopped")]
    public static partial void SessionFaulted(ILogger logger, Exception error);

    [LoggerMessage(EventId = 1514, Level = LogLevel.Debug, Message = "Waiting {DelayMs} ms before asking again whether the login at {AuthUrl} completed")]
    public static partial void FollowupWaiting(ILogger logger, long delayMs, Uri authUrl);
}
