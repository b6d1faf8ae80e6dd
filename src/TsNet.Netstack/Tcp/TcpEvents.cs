namespace TsNet.Netstack.Tcp;

/// <summary>
/// What changed for the application since the owner last asked (<see cref="TcpConnection.TakeEvents"/>), so it can
/// complete waiting calls without polling every property.
/// </summary>
[Flags]
internal enum TcpEvents
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>The handshake completed (ESTABLISHED).</summary>
    Connected = 1,

    /// <summary>New in-order bytes can be read.</summary>
    Readable = 2,

    /// <summary>Send buffer space was freed.</summary>
    Writable = 4,

    /// <summary>The peer's FIN arrived: after the buffered bytes, reads return 0.</summary>
    ReadClosed = 8,

    /// <summary>The connection reached CLOSED (see <see cref="TcpConnection.Error"/>).</summary>
    Closed = 16,
}
