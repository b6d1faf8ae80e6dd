using Microsoft.Extensions.Logging;

namespace TsNet.Tool.Commands;

/// <summary>Log messages of <c>tsnet up</c> (event ids 2200–2299, stable).</summary>
internal static partial class UpLog
{
    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "node {PublicKey} up on UDP port {Port} with {Services} services; SIGINT/SIGTERM stops it")]
    public static partial void Running(ILogger logger, string publicKey, int port, int services);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Information, Message = "stopped")]
    public static partial void Stopped(ILogger logger);
}
