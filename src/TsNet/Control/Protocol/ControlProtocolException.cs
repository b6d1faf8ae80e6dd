namespace TsNet.Control.Protocol;

/// <summary>
/// The control server sent something this client cannot use: a truncated or oversized map frame, bad zstd, bad
/// JSON. The map poll ends with it and reconnects; nothing the server sends is allowed to crash the node.
/// </summary>
internal sealed class ControlProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ControlProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public ControlProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
