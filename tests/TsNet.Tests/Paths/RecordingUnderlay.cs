using TsNet.Dataplane;
using TsNet.Underlay;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.Paths;

/// <summary>An inner underlay for path-layer tests that records what the layer sends and receives nothing itself.</summary>
internal sealed class RecordingUnderlay : IUnderlay
{
    public List<(UnderlayAddress To, byte[] Datagram)> Sent { get; } = [];

    public int Port => 41641;

    public long InboundDrops => 0;

    public long SendDrops => 0;

    public IEnumerable<Task> Tasks => [];

    public long NextDeadline => Timestamps.NotArmed;

    public void Start()
    {
    }

    public void Send(in UnderlayAddress destination, ReadOnlySpan<byte> datagram) => Sent.Add((destination, datagram.ToArray()));

    public void Flush()
    {
    }

    public UnderlayReceiveResult Receive(ref UnderlayDatagram datagram, long now) => UnderlayReceiveResult.Direct;

    public void Poll(long now)
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
