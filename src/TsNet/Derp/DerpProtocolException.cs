namespace TsNet.Derp;

/// <summary>The DERP server broke the protocol (bad upgrade, bad handshake, oversize frame); the connection closes.</summary>
internal sealed class DerpProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DerpProtocolException(string message)
        : base(message)
    {
    }
}
