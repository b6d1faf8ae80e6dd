namespace TsNet.Registry;

/// <summary>Where a registry peer came from: it decides who may change or remove it.</summary>
internal enum PeerSource
{
    /// <summary>From the options or <see cref="TailnetServer.AddOrUpdatePeer"/> (static WireGuard mode).</summary>
    Static,

    /// <summary>From the coordination server's network map (control mode).</summary>
    Netmap,
}
