namespace TsNet;

/// <summary>The transport protocol of a <see cref="PortMapping"/>.</summary>
public enum PortProtocol
{
    /// <summary>TCP: each connection is relayed as a byte stream, half-close included.</summary>
    Tcp,

    /// <summary>UDP: datagrams are relayed one by one, in a session per remote sender.</summary>
    Udp,
}
