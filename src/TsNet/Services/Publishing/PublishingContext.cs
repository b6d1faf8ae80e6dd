using Microsoft.Extensions.Logging;

namespace TsNet.Services.Publishing;

/// <summary>What every relay of one <see cref="PortPublication"/> shares: the node, clock, limits, logger and task tracking.</summary>
internal sealed class PublishingContext(
    TailnetServer node,
    TimeProvider timeProvider,
    TimeSpan udpSessionIdle,
    int udpMaxSessions,
    ILogger logger,
    CancellationToken stopping)
{
    private int _openSockets;

    public TailnetServer Node { get; } = node;

    public TimeProvider TimeProvider { get; } = timeProvider;

    public TimeSpan UdpSessionIdle { get; } = udpSessionIdle;

    public int UdpMaxSessions { get; } = udpMaxSessions;

    public ILogger Logger { get; } = logger;

    /// <summary>Cancelled when the publication (or its node) is disposed.</summary>
    public CancellationToken Stopping { get; } = stopping;

    /// <summary>Every loop and session task of the publication; disposal waits for them.</summary>
    public BackgroundTaskTracker Tasks { get; } = new();

    /// <summary>Host and overlay sockets, listeners and relayed connections open now (a leak check for tests).</summary>
    public int OpenSockets => Volatile.Read(ref _openSockets);

    public void SocketOpened() => Interlocked.Increment(ref _openSockets);

    public void SocketClosed() => Interlocked.Decrement(ref _openSockets);
}
