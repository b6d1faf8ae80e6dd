using System.Net;
using System.Threading.Channels;
using TsNet.Dataplane;
using TsNet.Packets.Buffers;
using TsNet.Underlay;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Paths;

/// <summary>
/// A UDP relay server on an <see cref="InMemoryUnderlayHub"/> port: a <see cref="RelayServerCore"/> fed by a pump task
/// (answers binds, forwards between bound legs) on the hub's clock, counting what it forwarded.
/// </summary>
internal sealed class HubRelay : IAsyncDisposable
{
    private readonly Channel<UnderlayDatagram> _inbox = Channel.CreateUnbounded<UnderlayDatagram>();
    private readonly PacketBufferPool _pool = new();
    private readonly InMemoryUnderlay _side;
    private readonly TimeProvider _clock;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private long _forwarded;

    public HubRelay(InMemoryUnderlayHub hub)
    {
        _clock = hub.TimeProvider;
        Key = DiscoKey.Generate();
        Core = new RelayServerCore(Key.Bytes, new RelayServerSettings());
        _side = hub.Attach(0, _pool, _inbox.Writer, _ => { });
        _pump = Task.Run(PumpAsync);
    }

    public DiscoKey Key { get; }

    public RelayServerCore Core { get; }

    public int Port => _side.Port;

    /// <summary>Data datagrams forwarded from one bound leg to the other.</summary>
    public long Forwarded => Interlocked.Read(ref _forwarded);

    /// <summary>The relay paths for a pair of nodes: <c>(a's path to b, b's path to a)</c>.</summary>
    public (TailnetRelayPath ToB, TailnetRelayPath ToA) Allocate(DiscoKey a, DiscoKey b)
    {
        RelayServerEndpoint? endpoint;
        lock (_lock)
        {
            Core.Allocate(a, b, _clock.GetUtcNow().Ticks, out endpoint).Should().Be(RelayAllocationStatus.Allocated);
        }

        var address = new IPEndPoint(IPAddress.Loopback, Port);
        return (
            new TailnetRelayPath { Address = address, ServerDiscoKey = Key.PublicKey, Vni = endpoint!.Vni, PeerDiscoKey = b },
            new TailnetRelayPath { Address = address, ServerDiscoKey = Key.PublicKey, Vni = endpoint.Vni, PeerDiscoKey = a });
    }

    private async Task PumpAsync()
    {
        var reply = new byte[RelayServerCore.MaxReplyLength];
        try
        {
            await foreach (var datagram in _inbox.Reader.ReadAllAsync(_stop.Token))
            {
                lock (_lock)
                {
                    var outcome = Core.HandlePacket(datagram.Buffer.Span, datagram.Source, _clock.GetUtcNow().Ticks, reply, out var length, out var destination);
                    if (outcome == RelayPacketOutcome.Reply)
                    {
                        _side.Send(destination, reply.AsSpan(0, length));
                    }
                    else if (outcome == RelayPacketOutcome.Forward)
                    {
                        _side.Send(destination, datagram.Buffer.Span);
                        Interlocked.Increment(ref _forwarded);
                    }
                }

                datagram.Buffer.Return();
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _pump;
        await _side.DisposeAsync();
        _stop.Dispose();
    }
}
