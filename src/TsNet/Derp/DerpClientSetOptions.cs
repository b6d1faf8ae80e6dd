using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Dataplane;
using TsNet.Packets.Buffers;

namespace TsNet.Derp;

/// <summary>What a <see cref="DerpClientSet"/> needs: the node's identity, where received packets go, and its bounds.</summary>
internal sealed class DerpClientSetOptions
{
    /// <summary>The 32-byte WireGuard (node) private key; DERP servers know the node by its public key.</summary>
    public required byte[] NodePrivateKey { get; init; }

    /// <summary>Pool for outbound frames and received packets.</summary>
    public required PacketBufferPool Pool { get; init; }

    /// <summary>The dataplane's inbound queue (TryWrite; a full queue drops and counts).</summary>
    public required ChannelWriter<UnderlayDatagram> Inbound { get; init; }

    /// <summary>Clock for backoff, idle and read timeouts. Default: the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Logger. Default: none.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Packets queued per connection (region) before <see cref="DerpClientSet.TrySend"/> refuses. Default 512.</summary>
    public int SendQueueCapacity { get; init; } = 512;

    /// <summary>A non-home region unused (no send) this long is closed. Default 60 s (Go's derpInactiveCleanupTime).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
