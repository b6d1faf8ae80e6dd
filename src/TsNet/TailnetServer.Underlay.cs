using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TsNet.Dataplane;
using TsNet.Netstack;
using TsNet.Packets.Buffers;
using TsNet.Underlay;
using TsNet.WireGuard.Protocol;

namespace TsNet;

// Which underlay the node binds (UDP sockets, or a port on an in-memory hub in tests) and the buffer pool sized
// for the configured MTU.
public sealed partial class TailnetServer
{
    /// <summary>
    /// Pool buffer size for <paramref name="mtu"/>: headroom, an MTU-sized inner packet and WireGuard's padding and
    /// tag must fit one buffer (the netstack checks this), so jumbo MTUs get larger buffers than the default 2 KiB.
    /// </summary>
    internal static int PoolBufferSize(int mtu)
    {
        var needed = PacketBufferPool.DefaultHeadroom + mtu + NetstackCore.WireGuardTailroom;
        return needed <= PacketBufferPool.DefaultBufferSize ? PacketBufferPool.DefaultBufferSize : (needed + 1023) / 1024 * 1024;
    }

    /// <summary>The node's packet buffer pool (benchmarks subtract its bounded idle buffers from memory figures).</summary>
    internal PacketBufferPool BufferPool => _pool;

    /// <summary>
    /// What the dataplane calls (in its <c>Start</c> and on a rebind) to bind an underlay on a port: the test hook's
    /// in-memory hub, else UDP sockets with GSO sized to the largest datagram (wrapped by the test hook's layer, if any).
    /// </summary>
    private Func<ChannelWriter<UnderlayDatagram>, Action<ReadOnlySpan<byte>>, int, IUnderlay> CreateUnderlayBinder()
    {
        if (_options.TestHooks.InMemoryUnderlay is { } hub)
        {
            if (hub.TimeProvider != _options.TimeProvider)
            {
                // A delay on another clock than the node's would never line up with the node's timers.
                throw new InvalidOperationException("The in-memory underlay hub must run on the node's TimeProvider.");
            }

            return (writer, onReceived, port) => hub.Attach(port, _pool, writer, onReceived);
        }

        var logger = _options.LoggerFactory.CreateLogger("TsNet.Underlay");
        // A full-MTU inner packet plus the 32-byte transport header and tag, plus the 8-byte Geneve header on a
        // relay path: the largest datagram, which GSO must never split.
        var maxDatagram = _options.Mtu + MessageLayout.KeepaliveSize + WireGuard.Relay.GeneveHeader.Length;
        var wrap = _options.TestHooks.WrapUdpUnderlay;
        return (writer, onReceived, port) =>
        {
            var udp = UdpUnderlay.Bind(port, _pool, writer, onReceived, logger);
            udp.TryEnableGso(maxDatagram);
            return wrap is null ? udp : wrap(udp);
        };
    }

    /// <summary>
    /// A start that failed after the loops were published: unpublish and dispose them, so no socket, task or timer
    /// outlives the failure (the start task keeps the error; a later <see cref="StartAsync"/> rethrows it).
    /// </summary>
    private async Task ReleaseFailedStartAsync(DataplaneLoop dataplane, NetstackLoop netstack, Exception error)
    {
        lock (_gate)
        {
            if (_dataplane == dataplane)
            {
                _dataplane = null;
                _netstack = null;
            }
        }

        await netstack.DisposeAsync().ConfigureAwait(false);
        await dataplane.DisposeAsync().ConfigureAwait(false);
        if (error is not (ObjectDisposedException or OperationCanceledException))
        {
            LogStartFailed(_logger, error);
        }
    }

    [LoggerMessage(EventId = 1120, Level = LogLevel.Error, Message = "The node could not start; everything it had bound was released")]
    private static partial void LogStartFailed(ILogger logger, Exception exception);
}
