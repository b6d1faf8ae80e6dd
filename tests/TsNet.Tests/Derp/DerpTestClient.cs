using System.Threading.Channels;
using TsNet.Dataplane;
using TsNet.Derp;
using TsNet.Packets.Buffers;

namespace TsNet.Tests.Derp;

/// <summary>A <see cref="DerpClientSet"/> with its own key, pool and inbound channel, for tests.</summary>
internal sealed class DerpTestClient : IAsyncDisposable
{
    public DerpTestClient(int bufferSize = PacketBufferPool.DefaultBufferSize, int queueCapacity = 512, TimeProvider? time = null, TimeSpan? idleTimeout = null)
    {
        PrivateKey = WireGuardKey.Generate();
        PublicKey = PrivateKey.PublicKey.Bytes.ToArray();
        Pool = new PacketBufferPool(bufferSize, 1024);
        Inbound = Channel.CreateBounded<UnderlayDatagram>(4096);
        Set = new DerpClientSet(new DerpClientSetOptions
        {
            NodePrivateKey = PrivateKey.Bytes.ToArray(),
            Pool = Pool,
            Inbound = Inbound.Writer,
            SendQueueCapacity = queueCapacity,
            TimeProvider = time ?? TimeProvider.System,
            IdleTimeout = idleTimeout ?? TimeSpan.FromSeconds(60),
        });
        Set.Connected += region => Interlocked.Increment(ref ConnectedEvents);
    }

    public WireGuardKey PrivateKey { get; }

    public byte[] PublicKey { get; }

    public PacketBufferPool Pool { get; }

    public Channel<UnderlayDatagram> Inbound { get; }

    public DerpClientSet Set { get; }

    public int ConnectedEvents;

    public bool IsConnected(int regionId) => Set.GetStatus().Any(s => s.RegionId == regionId && s.Connected);

    /// <summary>Reads the next received datagram: (source region, source key, packet); the buffer goes back to the pool.</summary>
    public async Task<(int Region, byte[] Source, byte[] Packet)> ReceiveAsync(CancellationToken cancellationToken)
    {
        var datagram = await Inbound.Reader.ReadAsync(cancellationToken);
        try
        {
            datagram.Source.IsDerp.Should().BeTrue();
            var bytes = datagram.Buffer.Span;
            return (datagram.Source.Port, bytes[..32].ToArray(), bytes[32..].ToArray());
        }
        finally
        {
            datagram.Buffer.Return();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Set.DisposeAsync();
        while (Inbound.Reader.TryRead(out var datagram))
        {
            datagram.Buffer.Return();
        }
    }

    public static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken, string because = "")
    {
        while (!condition())
        {
            if (cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException("condition not met: " + because);
            }

            // Polling an observable condition, bounded by the token.
            await Task.Delay(10, CancellationToken.None);
        }
    }
}
