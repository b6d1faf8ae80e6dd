using TsNet.Control.Netmap;

namespace TsNet.Control.Session;

/// <summary>
/// What a <see cref="IControlSession"/> reports to its node. Calls come from the session's task, one at a time
/// and in order; implementations must not block (hand work to the node's loops and await that instead).
/// </summary>
internal interface IControlObserver
{
    /// <summary>The server wants an interactive login at <paramref name="authUrl"/>; the session waits for it.</summary>
    void OnLoginRequired(Uri authUrl);

    /// <summary>The server refused the node (its message); the session has stopped.</summary>
    void OnLoginRefused(string message);

    /// <summary>The map stream came up (true) or went away (false, with the cause); the session reconnects by itself.</summary>
    void OnControlConnectionChanged(bool connected, Exception? error);

    /// <summary>
    /// A netmap update (full or delta) to apply: addresses, self, peers, filter. The session reads no further
    /// map frames until the returned task completes.
    /// </summary>
    ValueTask OnNetmapAsync(NetmapUpdate update, CancellationToken cancellationToken);

    /// <summary>
    /// The node key changed (re-registration with a new key, or logout): the node must use
    /// <paramref name="nodePrivateKey"/> from now on.
    /// </summary>
    ValueTask OnNodeKeyChangedAsync(WireGuardKey nodePrivateKey, CancellationToken cancellationToken);

    /// <summary>The session failed in a way it cannot recover from (a bug or a broken state directory).</summary>
    void OnSessionFaulted(Exception error);
}
