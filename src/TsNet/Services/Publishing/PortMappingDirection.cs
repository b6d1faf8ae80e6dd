namespace TsNet;

/// <summary>Which way a <see cref="PortMapping"/> carries traffic.</summary>
public enum PortMappingDirection
{
    /// <summary>A host socket (loopback by default) whose traffic goes to an overlay address: <c>tsnet up --forward</c>.</summary>
    HostToTailnet,

    /// <summary>An overlay port whose traffic goes to a host address: <c>tsnet up --publish</c>.</summary>
    TailnetToHost,
}
