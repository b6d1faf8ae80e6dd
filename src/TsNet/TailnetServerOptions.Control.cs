using System.Net;

namespace TsNet;

public sealed partial class TailnetServerOptions
{
    /// <summary>Tailscale's own coordination server, <c>https://controlplane.tailscale.com</c>.</summary>
    public static Uri TailscaleControlUrl { get; } = new("https://controlplane.tailscale.com");

    /// <summary>
    /// The coordination server to join (Tailscale's <see cref="TailscaleControlUrl"/>, Headscale, or any server speaking
    /// the Tailscale control protocol). Null (default): static mode, peers from <see cref="Peers"/>. With a control URL,
    /// keys, addresses, peers, names and the packet filter come from the server, and setting <see cref="Peers"/>,
    /// <see cref="Addresses"/> or <see cref="PrivateKey"/> is an options error; <see cref="StateDirectory"/> (or
    /// <see cref="Ephemeral"/>) is required.
    /// </summary>
    public Uri? ControlUrl { get; set; }

    /// <summary>
    /// The auth key the node registers with. Null (default): the <c>TS_AUTHKEY</c> environment variable, else an
    /// interactive login (<see cref="TailnetServer.AuthUrl"/>). Never written to disk.
    /// </summary>
    public string? AuthKey { get; set; }

    /// <summary>The node's host name on the tailnet. Default: the program's name (entry assembly), sanitised, as Go tsnet does.</summary>
    public string? Hostname { get; set; }

    /// <summary>Registers the node as ephemeral: the server removes it soon after it goes, and disposing the node logs it out.</summary>
    public bool Ephemeral { get; set; }

    /// <summary>ACL tags the node asks for at registration, e.g. <c>tag:web</c>.</summary>
    public IList<string> AdvertiseTags { get; } = new List<string>();

    /// <summary>Subnet routes this node offers to the tailnet (with a fallback TCP handler: a subnet router or app connector).</summary>
    public IList<IPNetwork> AdvertiseRoutes { get; } = new List<IPNetwork>();

    /// <summary>Use the subnet routes other nodes advertise. Default false, as tailscale on Linux.</summary>
    public bool AcceptRoutes { get; set; }

    /// <summary>
    /// The capability version the client announces to the server. Default 115; 113 is Headscale's minimum; 120 and
    /// above are refused (they would claim peer-relay support TsNet does not have).
    /// </summary>
    public int CapabilityVersion { get; set; } = 115;
}
