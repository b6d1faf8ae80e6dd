using Microsoft.Extensions.Logging;

namespace TsNet.Extensions.Hosting;

// Event ids 1700–1719 belong to the generic-host integration.
internal static partial class Log
{
    /// <summary>The category the integration logs under.</summary>
    public const string Category = "TsNet.Extensions.Hosting";

    [LoggerMessage(EventId = 1700, Level = LogLevel.Warning, Message = "Tailnet login required: open {AuthUrl} in a browser; the host keeps running meanwhile")]
    public static partial void LoginRequired(ILogger logger, Uri authUrl);

    [LoggerMessage(EventId = 1701, Level = LogLevel.Information, Message = "Tailnet node {Name} is running with addresses {Addresses}")]
    public static partial void Running(ILogger logger, string name, string addresses);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Warning, Message = "Tailnet node key expired; peers will not talk to the node until it logs in again")]
    public static partial void Expired(ILogger logger);

    [LoggerMessage(EventId = 1703, Level = LogLevel.Error, Message = "Tailnet node faulted; it serves nothing more until the host restarts")]
    public static partial void Faulted(ILogger logger, Exception? exception);

    [LoggerMessage(EventId = 1704, Level = LogLevel.Error, Message = "Tailnet node stopped: {Reason}")]
    public static partial void StoppedWithError(ILogger logger, string reason, Exception exception);

    [LoggerMessage(EventId = 1705, Level = LogLevel.Warning, Message = "Tailnet configuration: {Warning}")]
    public static partial void ConfigurationWarning(ILogger logger, string warning);

    [LoggerMessage(EventId = 1706, Level = LogLevel.Information, Message = "Tailnet node started; public key {PublicKey}, UDP port {ListenPort}")]
    public static partial void Started(ILogger logger, string publicKey, int listenPort);
}
