namespace TsNet.Filter;

/// <summary>
/// The filter between the WireGuard core and the netstack, owned by the dataplane task (no locks): inbound packets
/// pass when they belong to a flow this node opened or when the current <see cref="PacketFilter"/> allows them;
/// everything else is dropped and counted. Per packet it allocates nothing.
/// <para>
/// What counts as a reply, as in Tailscale's filter: TCP is judged by its opening segment only — an inbound SYN
/// (without ACK) must match a rule, every other segment passes (the netstack answers a segment of a connection it
/// does not know with a reset), so no TCP flow is tracked and an accepted connection survives a filter change. UDP
/// replies and ICMP echo replies must match a flow recorded from an outbound packet (<see cref="FlowTable"/>,
/// bounded, idle expiry); ICMP errors and IPv4/IPv6 fragments after the first (no transport header to judge) pass.
/// A rule change (<see cref="Rules"/>) applies to the next packet; the flow table stays.
/// </para>
/// </summary>
internal sealed class StatefulPacketFilter
{
    /// <summary>Flows remembered at most (UDP and ICMP echo); the least recently used goes first.</summary>
    public const int DefaultFlowCapacity = 8192;

    /// <summary>A UDP or echo flow silent this long in both directions is forgotten (as Linux conntrack's UDP stream timeout).</summary>
    public static readonly TimeSpan DefaultFlowIdleTimeout = TimeSpan.FromMinutes(2);

    private readonly FlowTable _flows;
    private long _denied;
    private long _malformed;

    public StatefulPacketFilter(PacketFilter rules, int flowCapacity = DefaultFlowCapacity, TimeSpan? flowIdleTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        Rules = rules;
        _flows = new FlowTable(flowCapacity, (flowIdleTimeout ?? DefaultFlowIdleTimeout).Ticks);
    }

    /// <summary>The rules new inbound flows are judged by; set on the dataplane task, effective for the next packet.</summary>
    public PacketFilter Rules { get; set; }

    /// <summary>The flows this node opened (for tests and status).</summary>
    public FlowTable Flows => _flows;

    /// <summary>Inbound packets no rule and no flow allowed. Readable from any thread.</summary>
    public long Denied => Volatile.Read(ref _denied);

    /// <summary>Inbound packets too short for the headers they claim, or not IP. Readable from any thread.</summary>
    public long Malformed => Volatile.Read(ref _malformed);

    /// <summary>Judges a decrypted inbound packet at loop time <paramref name="now"/>; false means drop it (counted).</summary>
    public bool AllowInbound(ReadOnlySpan<byte> packet, long now)
    {
        if (!PacketSummary.TryRead(packet, out var summary))
        {
            // One writer (the dataplane task): a plain increment published with a volatile write.
            Volatile.Write(ref _malformed, _malformed + 1);
            return false;
        }

        if (summary.IsLaterFragment || IsReply(summary, now) || Rules.Allows(summary))
        {
            return true;
        }

        Volatile.Write(ref _denied, _denied + 1);
        return false;
    }

    /// <summary>Notes the flow of an outbound packet (UDP, ICMP echo request) at loop time <paramref name="now"/>.</summary>
    public void RecordOutbound(ReadOnlySpan<byte> packet, long now)
    {
        if (PacketSummary.TryRead(packet, out var summary)
            && !summary.IsLaterFragment
            && (summary.Protocol == PacketSummary.ProtocolUdp || summary.IsEchoRequest))
        {
            _flows.Touch(FlowKey.Outbound(summary), now);
        }
    }

    private bool IsReply(in PacketSummary packet, long now)
    {
        if (packet.Protocol == PacketSummary.ProtocolTcp)
        {
            return !packet.IsTcpSyn;
        }

        if (packet.Protocol == PacketSummary.ProtocolUdp || packet.IsEchoReply)
        {
            return _flows.TryUse(FlowKey.Reply(packet), now);
        }

        return packet.IsIcmpError;
    }
}
