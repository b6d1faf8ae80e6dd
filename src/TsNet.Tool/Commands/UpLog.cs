using Microsoft.Extensions.Logging;

namespace TsNet.Tool.Commands;

/// <summary>Log messages of <c>tsnet up</c> (event ids 2200–2299, stable).</summary>
internal static partial class UpLog
{
    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "node {PublicKey} up on UDP port {Port} with {Services}; SIGINT/SIGTERM stops it")]
    private static partial void Running(ILogger logger, string publicKey, int port, string services);

    /// <summary>The node is up; <paramref name="services"/> counts each service and each port mapping.</summary>
    public static void Running(ILogger logger, string publicKey, int port, int services) =>
        Running(logger, publicKey, port, CountedServices(services));

    /// <summary><c>no services</c>, <c>1 service</c>, <c>N services</c>.</summary>
    public static string CountedServices(int count) => count switch
    {
        0 => "no services",
        1 => "1 service",
        _ => $"{count} services",
    };

    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Information, Message = "stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Information, Message = "joining the tailnet of {LoginServer} as {Hostname}")]
    public static partial void Joining(ILogger logger, string loginServer, string hostname);

    [LoggerMessage(EventId = 2204, Level = LogLevel.Warning, Message = "waiting for an interactive login: open {AuthUrl} (or start with --authkey)")]
    public static partial void WaitingForLogin(ILogger logger, string authUrl);

    [LoggerMessage(EventId = 2205, Level = LogLevel.Error, Message = "{Flag} {Mapping} is not published: {Reason} (the node keeps running without it)")]
    public static partial void MappingNotPublished(ILogger logger, string flag, string mapping, string reason);
}
