namespace TsNet.Control.State;

/// <summary>
/// What a node keeps between runs to come back to its tailnet as itself: the machine key (the server knows the
/// device by it), the node key (the server gives the same node, name and addresses back to it), and whether it
/// completed a login. Never the auth key: re-registration takes that from the options or <c>TS_AUTHKEY</c> again.
/// </summary>
internal sealed record ControlState
{
    /// <summary>Machine private key (Noise static key).</summary>
    public required WireGuardKey MachineKey { get; init; }

    /// <summary>Node private key (WireGuard static key).</summary>
    public required WireGuardKey NodeKey { get; init; }

    /// <summary>The node key before the last rotation (sent as <c>OldNodeKey</c> once); null when none is pending.</summary>
    public WireGuardKey? OldNodeKey { get; init; }

    /// <summary>The control server the node last registered with; null before the first login.</summary>
    public string? ControlUrl { get; init; }

    /// <summary>True after a completed registration, false after logout (the server must see a new login).</summary>
    public bool LoggedIn { get; init; }

    /// <summary>
    /// A new node key for renewal after expiry: the current one becomes <see cref="OldNodeKey"/> (the server links the
    /// two), the login stays (re-registration decides).
    /// </summary>
    public ControlState WithNewNodeKey() => this with { OldNodeKey = NodeKey, NodeKey = WireGuardKey.Generate() };

    /// <summary>
    /// The state after logout: the node key is discarded (the server invalidated it) and the login cleared; the
    /// machine key stays, it is the device.
    /// </summary>
    public ControlState LoggedOut() => this with { NodeKey = WireGuardKey.Generate(), OldNodeKey = null, LoggedIn = false };
}
