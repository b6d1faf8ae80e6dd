namespace TsNet.Netstack;

/// <summary>Outcome of <see cref="NetstackCore.TryBindUdp"/>.</summary>
internal enum UdpBindResult
{
    /// <summary>The socket is bound.</summary>
    Bound,

    /// <summary>Another socket holds the port on an overlapping address (the "any" address overlaps every address).</summary>
    AddressInUse,

    /// <summary>Port 0 was asked for and every port of the ephemeral range is taken.</summary>
    NoFreePort,

    /// <summary>The local address is not one of the node's addresses.</summary>
    AddressNotAvailable,

    /// <summary>The port is outside 0–65535.</summary>
    InvalidPort,
}
