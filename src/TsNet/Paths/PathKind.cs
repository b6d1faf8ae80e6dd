namespace TsNet.Paths;

/// <summary>How data to a peer currently travels.</summary>
internal enum PathKind
{
    /// <summary>No route: neither a direct address nor a DERP region is known.</summary>
    None,

    /// <summary>A confirmed (trusted) direct UDP path.</summary>
    Direct,

    /// <summary>Through a DERP relay (possibly alongside an unconfirmed direct address).</summary>
    Derp,

    /// <summary>Through a UDP relay server (a static peer's relay path) while no direct path is trusted.</summary>
    Relay,
}
