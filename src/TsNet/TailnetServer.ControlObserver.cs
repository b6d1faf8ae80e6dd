using System.Net;
using Microsoft.Extensions.Logging;
using TsNet.Control.Netmap;
using TsNet.Control.Session;

namespace TsNet;

// What the control session reports, turned into node state: login prompts and refusals, the control connection,
// node key changes, and netmaps (see TailnetServer.ControlNetmap.cs). The session calls one at a time from its own
// task; nothing here blocks it beyond awaiting the loops.
public sealed partial class TailnetServer
{
    private void OnLoginRequired(Uri authUrl)
    {
        LogLoginRequired(_logger, authUrl);
        lock (_controlGate)
        {
            if (Fault is null && !_running.Task.IsFaulted)
            {
                LeaveRunning(TailnetState.NeedsLogin, authUrl);
            }
        }
    }

    private void OnLoginRefused(string message)
    {
        var refused = new TailnetLoginException(message);
        LogLoginRefused(_logger, message);
        lock (_controlGate)
        {
            FailRunning(refused);
            SetState(TailnetState.Stopped, exception: refused);
        }
    }

    private void OnControlConnectionChanged(bool connected, Exception? error)
    {
        Volatile.Write(ref _controlConnected, connected);
        Metrics.OnControlConnectionChanged(connected);
        if (connected)
        {
            LogControlConnected(_logger);
        }
        else
        {
            LogControlDisconnected(_logger, error?.Message ?? "closed");
        }
    }

    /// <summary>The observer the node gives its control session: forwards each report to the node.</summary>
    private sealed class ControlObserver(TailnetServer server) : IControlObserver
    {
        public void OnLoginRequired(Uri authUrl)
        {
            ArgumentNullException.ThrowIfNull(authUrl);
            server.OnLoginRequired(authUrl);
        }

        public void OnLoginRefused(string message) => server.OnLoginRefused(message ?? string.Empty);

        public void OnControlConnectionChanged(bool connected, Exception? error) => server.OnControlConnectionChanged(connected, error);

        public ValueTask OnNetmapAsync(NetmapUpdate update, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(update);
            return new ValueTask(server.ApplyNetmapAsync(update, cancellationToken));
        }

        public async ValueTask OnNodeKeyChangedAsync(WireGuardKey nodePrivateKey, CancellationToken cancellationToken)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, server._disposing.Token);
            await server.SetPrivateKeyAsync(nodePrivateKey, linked.Token).ConfigureAwait(false);
            LogNodeKeyChanged(server._logger, server.PublicKey.ToString());
        }

        public void OnSessionFaulted(Exception error)
        {
            ArgumentNullException.ThrowIfNull(error);
            server.OnLoopFaulted("control session", error);
        }
    }

    [LoggerMessage(EventId = 1414, Level = LogLevel.Warning, Message = "Login required: visit {AuthUrl}")]
    private static partial void LogLoginRequired(ILogger logger, Uri authUrl);

    [LoggerMessage(EventId = 1415, Level = LogLevel.Error, Message = "The coordination server refused the node: {Message}")]
    private static partial void LogLoginRefused(ILogger logger, string message);

    [LoggerMessage(EventId = 1416, Level = LogLevel.Information, Message = "Connected to the coordination server")]
    private static partial void LogControlConnected(ILogger logger);

    [LoggerMessage(EventId = 1417, Level = LogLevel.Warning, Message = "Lost the coordination server ({Reason}); traffic continues, the session reconnects")]
    private static partial void LogControlDisconnected(ILogger logger, string reason);

    [LoggerMessage(EventId = 1418, Level = LogLevel.Information, Message = "Node key changed; now {PublicKey}")]
    private static partial void LogNodeKeyChanged(ILogger logger, string publicKey);
}
