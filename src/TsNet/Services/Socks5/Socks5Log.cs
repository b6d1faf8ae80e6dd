using Microsoft.Extensions.Logging;

namespace TsNet.Services.Socks5;

/// <summary>Log messages of the loopback SOCKS5 proxy (event ids 3100-3199).</summary>
internal static partial class Socks5Log
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "SOCKS5 proxy listening on {EndPoint}")]
    public static partial void Started(ILogger logger, string endPoint);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "SOCKS5 proxy on {EndPoint} stopped accepting")]
    public static partial void Stopped(ILogger logger, string endPoint);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Debug, Message = "SOCKS5 proxy at its cap of {MaxConnections} connections: accepting paused")]
    public static partial void AtCapacity(ILogger logger, int maxConnections);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning, Message = "SOCKS5 accept loop failed")]
    public static partial void AcceptFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Debug, Message = "SOCKS5 client {Client} closed: {Reason}")]
    public static partial void NegotiationClosed(ILogger logger, string client, string reason);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Information, Message = "SOCKS5 client {Client} failed authentication")]
    public static partial void AuthenticationFailed(ILogger logger, string client);

    [LoggerMessage(EventId = 3112, Level = LogLevel.Debug, Message = "SOCKS5 client {Client}: request refused with reply {Reply}: {Reason}")]
    public static partial void Refused(ILogger logger, string client, string reply, string reason);

    [LoggerMessage(EventId = 3113, Level = LogLevel.Debug, Message = "SOCKS5 client {Client} connected to {Target} (from {Local})")]
    public static partial void Connected(ILogger logger, string client, string target, string local);

    [LoggerMessage(EventId = 3114, Level = LogLevel.Debug, Message = "SOCKS5 client {Client}: UDP association relaying through {Relay}")]
    public static partial void Associated(ILogger logger, string client, string relay);

    /// <summary>A CONNECT whose overlay dial failed: the client only sees a reply code, so the reason is logged where a
    /// user looks (Information, as a published port's failed connect is).</summary>
    [LoggerMessage(EventId = 3116, Level = LogLevel.Information, Message = "SOCKS5 client {Client}: CONNECT {Target} refused with reply {Reply}: {Reason}")]
    public static partial void DialFailed(ILogger logger, string client, string target, string reply, string reason);

    [LoggerMessage(EventId = 3115, Level = LogLevel.Warning, Message = "SOCKS5 session of {Client} failed")]
    public static partial void SessionFailed(ILogger logger, string client, Exception exception);

    /// <summary>Rate-limited per association (<see cref="LogRateLimiter"/>): <paramref name="suppressed"/> drops went unlogged before this one.</summary>
    [LoggerMessage(EventId = 3120, Level = LogLevel.Debug, Message = "SOCKS5 UDP datagram dropped: {Reason} ({Suppressed} more dropped since the last such line)")]
    public static partial void DatagramDropped(ILogger logger, string reason, long suppressed);
}
