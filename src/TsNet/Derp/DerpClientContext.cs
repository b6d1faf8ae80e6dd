using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TsNet.Dataplane;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Crypto;

namespace TsNet.Derp;

/// <summary>What every region connection of a <see cref="DerpClientSet"/> shares: keys, pool, inbound queue, clock, counters.</summary>
internal sealed class DerpClientContext
{
    private long _sendDrops;
    private long _inboundDrops;

    /// <summary>Takes the set's options (the private key is copied).</summary>
    public DerpClientContext(DerpClientSetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.NodePrivateKey);
        ArgumentNullException.ThrowIfNull(options.Pool);
        ArgumentNullException.ThrowIfNull(options.Inbound);
        ArgumentNullException.ThrowIfNull(options.TimeProvider);
        ArgumentNullException.ThrowIfNull(options.Logger);
        if (options.NodePrivateKey.Length != X25519.KeySize)
        {
            throw new ArgumentException("The node private key is 32 bytes.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.SendQueueCapacity, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.IdleTimeout, TimeSpan.Zero, nameof(options));
        NodePrivateKey = options.NodePrivateKey.AsSpan().ToArray();
        NodePublicKey = new byte[X25519.KeySize];
        X25519.DerivePublicKey(NodePrivateKey, NodePublicKey);
        Pool = options.Pool;
        Inbound = options.Inbound;
        TimeProvider = options.TimeProvider;
        Logger = options.Logger;
        SendQueueCapacity = options.SendQueueCapacity;
        IdleTimeout = options.IdleTimeout;
    }

    /// <summary>The node private key.</summary>
    public byte[] NodePrivateKey { get; }

    /// <summary>The node public key (what servers and peers know us by).</summary>
    public byte[] NodePublicKey { get; }

    /// <summary>Buffer pool.</summary>
    public PacketBufferPool Pool { get; }

    /// <summary>The dataplane's inbound queue.</summary>
    public ChannelWriter<UnderlayDatagram> Inbound { get; }

    /// <summary>Clock.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Logger.</summary>
    public ILogger Logger { get; }

    /// <summary>Send queue capacity per region.</summary>
    public int SendQueueCapacity { get; }

    /// <summary>Idle timeout of non-home regions.</summary>
    public TimeSpan IdleTimeout { get; }

    /// <summary>All send drops.</summary>
    public long SendDrops => Interlocked.Read(ref _sendDrops);

    /// <summary>All inbound drops.</summary>
    public long InboundDrops => Interlocked.Read(ref _inboundDrops);

    /// <summary>Counts one send drop.</summary>
    public void CountSendDrop() => Interlocked.Increment(ref _sendDrops);

    /// <summary>Counts one inbound drop.</summary>
    public void CountInboundDrop() => Interlocked.Increment(ref _inboundDrops);
}
