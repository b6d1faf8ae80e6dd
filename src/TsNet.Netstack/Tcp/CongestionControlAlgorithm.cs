namespace TsNet.Netstack.Tcp;

/// <summary>The congestion control a connection uses (<see cref="TcpConfig.CongestionControl"/>).</summary>
internal enum CongestionControlAlgorithm
{
    /// <summary>CUBIC (RFC 9438) with its Reno-friendly region and fast convergence: Linux's default.</summary>
    Cubic,

    /// <summary>NewReno (RFC 5681 / 6582) with byte counting (RFC 3465).</summary>
    NewReno,
}
