namespace TsNet.Control.Transport;

/// <summary>
/// The control channel failed: the server's bytes broke the ts2021 protocol (truncated, oversized, wrong type,
/// bad tag), the server refused the handshake, or the upgrade was not answered as the protocol requires.
/// The connection is unusable afterwards.
/// </summary>
internal sealed class ControlTransportException : IOException
{
    public ControlTransportException(string message)
        : base(message)
    {
    }

    public ControlTransportException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
