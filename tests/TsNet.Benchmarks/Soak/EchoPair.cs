namespace TsNet.Benchmarks.Soak;

/// <summary>
/// One UDP echo client: its socket and a fixed ring of outstanding datagrams (sequence → send time, echoed?), so
/// bookkeeping never grows. A datagram still unechoed when its slot is reused (<see cref="RingSlots"/> sends later)
/// is lost. Sender and receiver tasks share it under a lock (a hundred datagrams a second).
/// </summary>
internal sealed class EchoPair
{
    /// <summary>Outstanding datagrams remembered (80 s at 100/s).</summary>
    public const int RingSlots = 8192;

    private readonly long[] _sequence = new long[RingSlots];
    private readonly long[] _sentAt = new long[RingSlots];
    private readonly bool[] _done = new bool[RingSlots];
    private readonly bool _churned;
    private long _next;
    private UdpEchoCounts _counts = new();

    public EchoPair(SoakNode from, SoakNode to, TailnetUdpSocket socket, bool churned, int seed)
    {
        From = from;
        To = to;
        Socket = socket;
        _churned = churned;
        Seed = seed;
        Array.Fill(_sequence, -1);
    }

    public SoakNode From { get; }

    public SoakNode To { get; }

    public TailnetUdpSocket Socket { get; }

    public int Seed { get; }

    public UdpEchoCounts Counts
    {
        get
        {
            lock (_sequence)
            {
                return _counts;
            }
        }
    }

    /// <summary>Takes the next sequence number, judging the datagram whose slot it reuses.</summary>
    public long Register(long sentAt, PeerChurn churn)
    {
        lock (_sequence)
        {
            var sequence = _next++;
            var slot = (int)(sequence % RingSlots);
            Judge(slot, churn);
            _sequence[slot] = sequence;
            _sentAt[slot] = sentAt;
            _done[slot] = false;
            _counts = _counts with { Sent = _counts.Sent + 1 };
            return sequence;
        }
    }

    /// <summary>The send of <paramref name="sequence"/> was refused (no route while its peer was removed).</summary>
    public void SendRefused(long sequence, PeerChurn churn)
    {
        lock (_sequence)
        {
            var slot = (int)(sequence % RingSlots);
            if (_sequence[slot] != sequence || _done[slot])
            {
                return;
            }

            _done[slot] = true;
            _counts = InChurn(_sentAt[slot], churn)
                ? _counts with { LostChurn = _counts.LostChurn + 1 }
                : _counts with { Refused = _counts.Refused + 1 };
        }
    }

    public void Echoed(long sequence, PeerChurn churn)
    {
        lock (_sequence)
        {
            var slot = (int)(sequence % RingSlots);
            if (sequence < 0 || _sequence[slot] != sequence || _done[slot])
            {
                _counts = _counts with { Late = _counts.Late + 1 };
                return;
            }

            _done[slot] = true;
            // Echoes during a churn window leave the loss check's sample, like that window's losses.
            _counts = _counts with { Echoed = _counts.Echoed + 1, Judged = _counts.Judged + (InChurn(_sentAt[slot], churn) ? 0 : 1) };
        }
    }

    public void Corrupt()
    {
        lock (_sequence)
        {
            _counts = _counts with { Corrupt = _counts.Corrupt + 1 };
        }
    }

    /// <summary>At the end: every datagram not echoed by now is lost.</summary>
    public void JudgeOutstanding(PeerChurn churn)
    {
        lock (_sequence)
        {
            for (var slot = 0; slot < RingSlots; slot++)
            {
                Judge(slot, churn);
            }
        }
    }

    private void Judge(int slot, PeerChurn churn)
    {
        if (_sequence[slot] < 0 || _done[slot])
        {
            return;
        }

        _done[slot] = true;
        _counts = InChurn(_sentAt[slot], churn)
            ? _counts with { LostChurn = _counts.LostChurn + 1 }
            : _counts with { Lost = _counts.Lost + 1, Judged = _counts.Judged + 1 };
    }

    private bool InChurn(long sentAt, PeerChurn churn) => _churned && churn.Overlaps(sentAt, sentAt);
}
