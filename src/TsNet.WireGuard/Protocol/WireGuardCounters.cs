namespace TsNet.WireGuard.Protocol;

/// <summary>Drop counters by reason plus a few event counters. Written by the core's owner thread only; read anywhere.</summary>
internal sealed class WireGuardCounters
{
    private readonly long[] _drops = new long[Enum.GetValues<WireGuardDropReason>().Length];

    public long CookieRepliesSent;
    public long HandshakeInitiationsSent;
    public long HandshakeResponsesSent;
    public long Roams;

    public void Drop(WireGuardDropReason reason) => _drops[(int)reason]++;

    public long this[WireGuardDropReason reason] => Volatile.Read(ref _drops[(int)reason]);

    public long TotalDrops
    {
        get
        {
            long sum = 0;
            foreach (var value in _drops)
            {
                sum += value;
            }

            return sum;
        }
    }

    public IReadOnlyDictionary<string, long> Snapshot()
    {
        var result = new Dictionary<string, long>();
        foreach (var reason in Enum.GetValues<WireGuardDropReason>())
        {
            var value = this[reason];
            if (value != 0)
            {
                result[reason.ToString()] = value;
            }
        }

        return result;
    }
}
