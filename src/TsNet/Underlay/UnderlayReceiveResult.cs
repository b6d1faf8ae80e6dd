namespace TsNet.Underlay;

/// <summary>What <see cref="IUnderlay.Receive"/> made of a received datagram.</summary>
internal enum UnderlayReceiveResult
{
    /// <summary>An ordinary WireGuard datagram from its sender: hand it to WireGuard as it is.</summary>
    Direct,

    /// <summary>Unwrapped by a framing layer: its buffer and source now describe the inner WireGuard datagram.</summary>
    Unwrapped,

    /// <summary>The underlay's own traffic (or dropped and counted): the buffer was returned.</summary>
    Consumed,
}
