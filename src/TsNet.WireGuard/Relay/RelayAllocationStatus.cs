namespace TsNet.WireGuard.Relay;

/// <summary>Outcome of <see cref="RelayServerCore.Allocate"/>.</summary>
internal enum RelayAllocationStatus
{
    /// <summary>A new endpoint.</summary>
    Allocated,

    /// <summary>The pair already had a live endpoint; it is returned unchanged.</summary>
    Existing,

    /// <summary>A client key equals the server's own disco key.</summary>
    ServerKey,

    /// <summary>Both client keys are the same, or a key is a low-order point (no shared key).</summary>
    InvalidKey,

    /// <summary>Every VNI is in use.</summary>
    VniExhausted,

    /// <summary>The server is shut down.</summary>
    Closed,
}
