using TsNet.WireGuard.Crypto;

namespace TsNet.WireGuard.Protocol;

/// <summary>Transport keys derived by one handshake, with their send counter and receive replay window.</summary>
internal sealed class Keypair : IDisposable
{
    private bool _disposed;

    public Keypair(WireGuardPeer peer, TransportCipher send, TransportCipher receive, bool isInitiator, long created, uint localIndex, uint remoteIndex)
    {
        Peer = peer;
        Send = send;
        Receive = receive;
        IsInitiator = isInitiator;
        Created = created;
        LocalIndex = localIndex;
        RemoteIndex = remoteIndex;
    }

    public WireGuardPeer Peer { get; }

    public TransportCipher Send { get; }

    public TransportCipher Receive { get; }

    /// <summary>Whether we initiated the handshake; only the initiator rekeys on age (avoids both sides racing).</summary>
    public bool IsInitiator { get; }

    public long Created { get; }

    public uint LocalIndex { get; }

    public uint RemoteIndex { get; }

    /// <summary>Next counter to send with (post-incremented).</summary>
    public ulong SendCounter { get; set; }

    public ReplayWindow Replay { get; } = new();

    public bool IsDisposed => _disposed;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Send.Dispose();
        Receive.Dispose();
    }
}
