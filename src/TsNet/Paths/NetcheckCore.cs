using System.Net;
using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

/// <summary>
/// Sans-IO netcheck: STUN binding requests to every DERP region's STUN node on a schedule, per-region latency, the
/// home region (lowest scaled latency with hysteresis, derp.md §6.4) and this node's public endpoints as STUN saw them.
/// Called on the dataplane loop only; requests go out through <see cref="IPathOutput.SendUdp"/> from the node's socket.
/// </summary>
internal sealed class NetcheckCore
{
    /// <summary>Creates an idle core; <see cref="SetTargets"/> starts the first report.</summary>
    /// <param name="timings">Timers; <see cref="NetcheckTimings.Default"/> when null.</param>
    /// <param name="random">Fills transaction ids and jitter; a cryptographic source when null.</param>
    public NetcheckCore(NetcheckTimings? timings = null, Action<Span<byte>>? random = null)
    {
        throw new NotImplementedException();
    }

    /// <summary>The current home region; 0 until a report picked one.</summary>
    public int HomeRegion => throw new NotImplementedException();

    /// <summary>This node's public ip:port as STUN servers observed them (deduplicated).</summary>
    public IReadOnlyList<IPEndPoint> PublicEndpoints => throw new NotImplementedException();

    /// <summary>Core time of the last report with a response (<see cref="Timestamps.Never"/> before).</summary>
    public long PublicEndpointsAt => throw new NotImplementedException();

    /// <summary>Bumps whenever <see cref="HomeRegion"/> or <see cref="PublicEndpoints"/> change.</summary>
    public int Version => throw new NotImplementedException();

    /// <summary>The best recent latency per region.</summary>
    public IReadOnlyDictionary<int, TimeSpan> RegionLatencies => throw new NotImplementedException();

    /// <summary>When <see cref="Poll"/> has work next; <see cref="Timestamps.NotArmed"/> when nothing is due.</summary>
    public long NextDeadline => throw new NotImplementedException();

    /// <summary>Sets the STUN servers to probe (resolved from the DERP map by the caller) and starts a report.</summary>
    public void SetTargets(IReadOnlyList<StunTarget> targets, long now) => throw new NotImplementedException();

    /// <summary>Handles a STUN packet from <paramref name="source"/>; true when it answered one of our requests.</summary>
    public bool ReceiveStun(ReadOnlySpan<byte> packet, in UnderlayAddress source, long now) => throw new NotImplementedException();

    /// <summary>Sends due STUN requests and retransmits, times out probes, finishes reports and schedules the next.</summary>
    public void Poll(long now, IPathOutput output) => throw new NotImplementedException();
}
