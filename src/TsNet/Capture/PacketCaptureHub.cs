namespace TsNet.Capture;

/// <summary>
/// The dataplane's tap: the set of running captures, read without a lock on every packet (an immutable array swapped
/// on subscribe/unsubscribe), so a node without a capture pays one volatile read per packet.
/// </summary>
internal sealed class PacketCaptureHub
{
    private readonly object _gate = new();
    private volatile PacketCaptureSession[] _sessions = [];

    public bool IsActive => _sessions.Length != 0;

    public void Tap(ReadOnlySpan<byte> packet)
    {
        foreach (var session in _sessions)
        {
            session.Offer(packet);
        }
    }

    public void Add(PacketCaptureSession session)
    {
        lock (_gate)
        {
            _sessions = [.. _sessions, session];
        }
    }

    public void Remove(PacketCaptureSession session)
    {
        lock (_gate)
        {
            _sessions = _sessions.Where(s => s != session).ToArray();
        }

        session.Complete();
    }
}
