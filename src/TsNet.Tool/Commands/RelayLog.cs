using Microsoft.Extensions.Logging;

namespace TsNet.Tool.Commands;

/// <summary>Log messages of <c>tsnet relay</c> (event ids 2300–2319, stable).</summary>
internal static partial class RelayLog
{
    [LoggerMessage(EventId = 2300, Level = LogLevel.Information, Message = "relay {DiscoKey} up on UDP port {Port}, advertising {Advertised}; SIGINT/SIGTERM stops it")]
    public static partial void Running(ILogger logger, string discoKey, int port, string advertised);

    [LoggerMessage(EventId = 2301, Level = LogLevel.Information, Message = "stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Information, Message = "stopped: {Forwarded} datagrams ({Bytes} bytes) forwarded, {Bound} legs bound, {Drops} dropped")]
    public static partial void Stopped(ILogger logger, long forwarded, long bytes, long bound, long drops);
}
