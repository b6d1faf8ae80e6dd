using Microsoft.Extensions.Logging;

namespace TsNet.Services.Publishing;

/// <summary>Log events of port publishing (event ids 3200–3299).</summary>
internal static partial class PublishingLog
{
    [LoggerMessage(EventId = 3200, Level = LogLevel.Information, Message = "Published {Mapping} on {EndPoint}")]
    public static partial void Published(ILogger logger, PortMapping mapping, string endPoint);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Could not publish {Mapping}; closing the {Bound} mapping(s) bound before it")]
    public static partial void BindFailed(ILogger logger, PortMapping mapping, int bound, Exception exception);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Information, Message = "Stopped publishing {Mapping}")]
    public static partial void Unpublished(ILogger logger, PortMapping mapping);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Information, Message = "{Mapping}: connection from {Client} reset: could not connect to the target")]
    public static partial void TcpConnectFailed(ILogger logger, PortMapping mapping, string client, Exception exception);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Debug, Message = "{Mapping}: connection from {Client} ended ({Outcome})")]
    public static partial void TcpSessionEnded(ILogger logger, PortMapping mapping, string client, string outcome);

    [LoggerMessage(EventId = 3205, Level = LogLevel.Debug, Message = "{Mapping}: UDP session for {Client} opened via {Local}")]
    public static partial void UdpSessionOpened(ILogger logger, PortMapping mapping, string client, string local);

    [LoggerMessage(EventId = 3206, Level = LogLevel.Debug, Message = "{Mapping}: UDP session for {Client} expired after being idle")]
    public static partial void UdpSessionExpired(ILogger logger, PortMapping mapping, string client);

    /// <summary>Rate-limited per mapping (<see cref="LogRateLimiter"/>): <paramref name="suppressed"/> drops went unlogged before this one.</summary>
    [LoggerMessage(EventId = 3207, Level = LogLevel.Debug, Message = "{Mapping}: datagram from {Client} dropped: the session limit ({Limit}) is reached ({Suppressed} more dropped since the last such line)")]
    public static partial void UdpSessionLimit(ILogger logger, PortMapping mapping, string client, int limit, long suppressed);

    [LoggerMessage(EventId = 3208, Level = LogLevel.Warning, Message = "{Mapping}: datagram from {Client} dropped: no socket could be opened for its session")]
    public static partial void UdpSessionOpenFailed(ILogger logger, PortMapping mapping, string client, Exception exception);

    [LoggerMessage(EventId = 3209, Level = LogLevel.Debug, Message = "{Mapping}: a datagram could not be relayed")]
    public static partial void UdpSendFailed(ILogger logger, PortMapping mapping, Exception exception);

    [LoggerMessage(EventId = 3210, Level = LogLevel.Error, Message = "{Mapping}: the listener failed and stopped accepting")]
    public static partial void ListenerFailed(ILogger logger, PortMapping mapping, Exception exception);

    [LoggerMessage(EventId = 3211, Level = LogLevel.Warning, Message = "A port publication's work outlived its disposal ({Count} task(s) still running)")]
    public static partial void WorkOutlived(ILogger logger, int count);
}
