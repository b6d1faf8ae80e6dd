namespace TsNet.WireGuard.Relay;

/// <summary>What the I/O layer does with a datagram after <see cref="RelayServerCore.HandlePacket"/>.</summary>
internal enum RelayPacketOutcome
{
    /// <summary>Nothing (the reason was counted).</summary>
    Dropped,

    /// <summary>Send the reply bytes to the destination (a Challenge back to the Bind's source).</summary>
    Reply,

    /// <summary>Send the received datagram, unchanged, to the destination (the other bound leg).</summary>
    Forward,

    /// <summary>Accepted with nothing to send (an Answer that bound a leg).</summary>
    Consumed,
}
