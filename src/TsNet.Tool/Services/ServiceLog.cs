using Microsoft.Extensions.Logging;

namespace TsNet.Tool.Services;

/// <summary>Log messages of the tool's tailnet services (event ids 2100–2199, stable).</summary>
internal static partial class ServiceLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "{Service} listening on tailnet {Protocol} port {Port}")]
    public static partial void Listening(ILogger logger, string service, string protocol, int port);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "{Service}: connection from {Remote}")]
    public static partial void Accepted(ILogger logger, string service, string remote);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "{Service}: connection from {Remote} failed")]
    public static partial void ConnectionFailed(ILogger logger, string service, string remote, Exception exception);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "{Service}: {Count} connection handlers still running after {Seconds} s; leaving them")]
    public static partial void HandlersLingering(ILogger logger, string service, int count, double seconds);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Debug, Message = "{Service}: UDP datagram of {Bytes} bytes from {Remote} echoed")]
    public static partial void DatagramEchoed(ILogger logger, string service, int bytes, string remote);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Warning, Message = "{Service}: could not echo a datagram to {Remote}")]
    public static partial void EchoFailed(ILogger logger, string service, string remote, Exception exception);
}
