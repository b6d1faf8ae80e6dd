namespace TsNet.Services.Fallback;

/// <summary>
/// Per destination port: how many claimed flows are in flight and when the last one ended. Bounded in ports; a port
/// with nothing in flight is reaped after the idle time. Claims happen on the netstack's task, releases on whatever
/// thread a flow ends on, so one small lock guards it (never held across a handler call).
/// </summary>
internal sealed class FallbackPortTable(FallbackTcpLimits limits, TimeProvider timeProvider)
{
    private readonly Dictionary<int, PortState> _ports = new();
    private long _nextReap;

    /// <summary>Ports with live state now.</summary>
    public int PortCount
    {
        get
        {
            lock (_ports)
            {
                return _ports.Count;
            }
        }
    }

    /// <summary>Flows in flight to <paramref name="port"/>.</summary>
    public int InFlight(int port)
    {
        lock (_ports)
        {
            return _ports.TryGetValue(port, out var state) ? state.InFlight : 0;
        }
    }

    /// <summary>Whether one more flow to <paramref name="port"/> fits; takes the slot when it does.</summary>
    public bool TryClaim(int port)
    {
        var now = timeProvider.GetTimestamp();
        lock (_ports)
        {
            if (!_ports.TryGetValue(port, out var state))
            {
                if (now >= _nextReap)
                {
                    Reap(now);
                }

                if (_ports.Count >= limits.MaxPorts)
                {
                    return false;
                }

                state = new PortState();
                _ports.Add(port, state);
            }

            if (state.InFlight >= limits.MaxInFlightPerPort)
            {
                return false;
            }

            state.InFlight++;
            state.LastActivity = now;
            return true;
        }
    }

    /// <summary>A claimed flow to <paramref name="port"/> ended (served, failed or never established).</summary>
    public void Release(int port)
    {
        var now = timeProvider.GetTimestamp();
        lock (_ports)
        {
            if (_ports.TryGetValue(port, out var state) && state.InFlight > 0)
            {
                state.InFlight--;
                state.LastActivity = now;
            }
        }
    }

    private void Reap(long now)
    {
        // Scanning is O(ports) with ports ≤ MaxPorts; at most once a second, so a port scan against a full table does
        // not pay it per SYN (a port is reaped at most a second late).
        _nextReap = now + timeProvider.TimestampFrequency;
        List<int>? idle = null;
        foreach (var (port, state) in _ports)
        {
            if (state.InFlight == 0 && timeProvider.GetElapsedTime(state.LastActivity, now) >= limits.IdleReap)
            {
                (idle ??= new List<int>()).Add(port);
            }
        }

        if (idle is not null)
        {
            foreach (var port in idle)
            {
                _ports.Remove(port);
            }
        }
    }

    private sealed class PortState
    {
        public int InFlight;
        public long LastActivity;
    }
}
