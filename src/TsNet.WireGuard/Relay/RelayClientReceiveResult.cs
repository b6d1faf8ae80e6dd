namespace TsNet.WireGuard.Relay;

/// <summary>What <see cref="RelayClientCore.Receive"/> made of a received datagram.</summary>
internal enum RelayClientReceiveResult
{
    /// <summary>Not relay traffic: a direct WireGuard datagram.</summary>
    NotRelayed,

    /// <summary>A relayed WireGuard message: skip the Geneve header; its source is the path's endpoint.</summary>
    WireGuard,

    /// <summary>Relay control traffic, ignored or dropped (counted); nothing more to do with it.</summary>
    Consumed,
}
