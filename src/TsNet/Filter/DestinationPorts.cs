namespace TsNet.Filter;

/// <summary>One compiled <c>DstPorts</c> entry: a destination range and an inclusive port range.</summary>
internal readonly record struct DestinationPorts(AddressRange Addresses, ushort FirstPort, ushort LastPort)
{
    /// <summary>Covers every port: the only form that lets protocols without ports (other than ICMP) through.</summary>
    public bool IsAllPorts => FirstPort == 0 && LastPort == ushort.MaxValue;
}
