namespace TsNet.Paths;

/// <summary>
/// One STUN target's probe within a netcheck report: up to <see cref="MaxSends"/> requests (the first and its
/// retransmits, each with its own transaction id) until a response arrives or the probe times out.
/// </summary>
internal sealed class NetcheckProbe(int targetIndex)
{
    /// <summary>The first request and up to two retransmits.</summary>
    public const int MaxSends = 3;

    private readonly TransactionId[] _txIds = new TransactionId[MaxSends];
    private readonly long[] _sentAt = new long[MaxSends];

    public int TargetIndex { get; } = targetIndex;

    public int Sends { get; private set; }

    public long FirstSentAt => _sentAt[0];

    public long RetransmitAt { get; set; }

    /// <summary>Answered or timed out: nothing more to send or wait for.</summary>
    public bool IsFinished { get; private set; }

    /// <summary>Round trip of the answered request, ticks; −1 when none was answered.</summary>
    public long Latency { get; private set; } = -1;

    public void Reset()
    {
        Sends = 0;
        IsFinished = false;
        Latency = -1;
    }

    public void NoteSent(in TransactionId txId, long now)
    {
        _txIds[Sends] = txId;
        _sentAt[Sends] = now;
        Sends++;
    }

    /// <summary>Matches a response to one of this probe's requests; records the latency and finishes the probe.</summary>
    public bool TryAnswer(in TransactionId txId, long now)
    {
        for (int i = 0; i < Sends; i++)
        {
            if (_txIds[i] == txId)
            {
                if (!IsFinished)
                {
                    Latency = Math.Max(0, now - _sentAt[i]);
                    IsFinished = true;
                }

                return true;
            }
        }

        return false;
    }

    public void TimeOut() => IsFinished = true;
}
