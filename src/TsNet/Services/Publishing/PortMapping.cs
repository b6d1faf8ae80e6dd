using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TsNet.Services.Publishing;

namespace TsNet;

/// <summary>
/// One port to publish with <see cref="TailnetServer.PublishAsync"/>: either a host socket whose traffic is relayed
/// into the tailnet (<see cref="HostToTailnet(PortProtocol, IPEndPoint, string)"/>, the CLI's <c>--forward</c>) or an
/// overlay port whose traffic is relayed to a host address (<see cref="TailnetToHost"/>, the CLI's <c>--publish</c>).
/// Immutable; <see cref="ToString"/> gives the CLI syntax, which <see cref="ParseForward"/> and
/// <see cref="ParsePublish"/> read back.
/// </summary>
public sealed class PortMapping : IEquatable<PortMapping>
{
    private PortMapping(PortMappingDirection direction, PortProtocol protocol, IPEndPoint? listen, string? target, int overlayPort, IPEndPoint? hostTarget)
    {
        Direction = direction;
        Protocol = protocol;
        Listen = listen;
        Target = target;
        OverlayPort = overlayPort;
        HostTarget = hostTarget;
    }

    /// <summary>Which way traffic flows.</summary>
    public PortMappingDirection Direction { get; }

    /// <summary>TCP or UDP.</summary>
    public PortProtocol Protocol { get; }

    /// <summary>
    /// <see cref="PortMappingDirection.HostToTailnet"/> only: the host address and port to listen on (port 0: an
    /// ephemeral port, see <see cref="PublishedPort.EndPoint"/>). Null for <see cref="PortMappingDirection.TailnetToHost"/>.
    /// </summary>
    public IPEndPoint? Listen { get; }

    /// <summary>
    /// <see cref="PortMappingDirection.HostToTailnet"/> only: the overlay destination as <c>host:port</c> — an IP
    /// literal (<c>100.64.0.1:80</c>, <c>[fd7a::1]:80</c>) or a peer name (<c>db:5432</c>), resolved like
    /// <see cref="TailnetServer.ConnectTcpAsync(string, CancellationToken)"/> when the mapping is published.
    /// Null for <see cref="PortMappingDirection.TailnetToHost"/>.
    /// </summary>
    public string? Target { get; }

    /// <summary><see cref="PortMappingDirection.TailnetToHost"/> only: the overlay port listened on (all of the node's addresses); 0 otherwise.</summary>
    public int OverlayPort { get; }

    /// <summary><see cref="PortMappingDirection.TailnetToHost"/> only: the host address and port traffic is relayed to. Null otherwise.</summary>
    public IPEndPoint? HostTarget { get; }

    /// <summary>
    /// A host socket on <paramref name="listen"/> whose connections (TCP) or datagrams (UDP) are relayed to
    /// <paramref name="target"/> in the tailnet.
    /// </summary>
    /// <param name="protocol">TCP or UDP.</param>
    /// <param name="listen">Host address and port to listen on; port 0 picks an ephemeral port. Use a loopback address
    /// unless other machines should reach the tailnet through this host.</param>
    /// <param name="target">Overlay <c>host:port</c>: an IP literal (IPv6 in brackets) or a peer name.</param>
    /// <exception cref="ArgumentException"><paramref name="target"/> is not <c>host:port</c>, or <paramref name="listen"/> is not IPv4/IPv6.</exception>
    public static PortMapping HostToTailnet(PortProtocol protocol, IPEndPoint listen, string target)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(target);
        CheckProtocol(protocol);
        if (listen.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"The listen address {listen} is neither IPv4 nor IPv6.", nameof(listen));
        }

        if (!PortMappingParser.TrySplitTarget(target, out var host, out var port, out var error))
        {
            throw new ArgumentException(error, nameof(target));
        }

        return new PortMapping(PortMappingDirection.HostToTailnet, protocol, new IPEndPoint(listen.Address, listen.Port), PortMappingParser.FormatHostPort(host, port), 0, null);
    }

    /// <summary>
    /// A host socket on <c>127.0.0.1:<paramref name="listenPort"/></c> whose traffic is relayed to
    /// <paramref name="target"/> in the tailnet (see <see cref="HostToTailnet(PortProtocol, IPEndPoint, string)"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="listenPort"/> is outside 0–65535.</exception>
    public static PortMapping HostToTailnet(PortProtocol protocol, int listenPort, string target)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(listenPort);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(listenPort, IPEndPoint.MaxPort);
        return HostToTailnet(protocol, new IPEndPoint(IPAddress.Loopback, listenPort), target);
    }

    /// <summary>
    /// An overlay port (on every address of the node) whose connections (TCP) or datagrams (UDP) are relayed to
    /// <paramref name="hostTarget"/>.
    /// </summary>
    /// <param name="protocol">TCP or UDP.</param>
    /// <param name="overlayPort">The overlay port, 1–65535.</param>
    /// <param name="hostTarget">Host address and port to relay to, e.g. <c>127.0.0.1:8000</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="overlayPort"/> or the target's port is outside 1–65535.</exception>
    public static PortMapping TailnetToHost(PortProtocol protocol, int overlayPort, IPEndPoint hostTarget)
    {
        ArgumentNullException.ThrowIfNull(hostTarget);
        CheckProtocol(protocol);
        ArgumentOutOfRangeException.ThrowIfLessThan(overlayPort, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(overlayPort, IPEndPoint.MaxPort);
        if (hostTarget.Port == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(hostTarget), "The host target needs a port (1-65535).");
        }

        if (hostTarget.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"The host target {hostTarget} is neither IPv4 nor IPv6.", nameof(hostTarget));
        }

        return new PortMapping(PortMappingDirection.TailnetToHost, protocol, null, null, overlayPort, new IPEndPoint(hostTarget.Address, hostTarget.Port));
    }

    /// <summary>
    /// Reads the CLI's <c>--forward</c> syntax, <c>tcp|udp:[LISTEN_ADDR:]PORT=TARGET:PORT</c>, into a
    /// <see cref="PortMappingDirection.HostToTailnet"/> mapping: <c>tcp:127.0.0.1:8080=100.64.0.1:80</c>,
    /// <c>udp:[::1]:5353=[fd7a:115c:a1e0::1]:53</c>, <c>tcp:8080=db:5432</c> (no address: 127.0.0.1). The listen
    /// address is an IP literal and the listen port may be 0; the target is an IP literal or a peer name. IPv6
    /// addresses go in brackets.
    /// </summary>
    /// <exception cref="FormatException">The text does not match; the message quotes it and says what is wrong.</exception>
    public static PortMapping ParseForward(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var (protocol, listen, host, port) = PortMappingParser.ParseForward(text);
        return new PortMapping(PortMappingDirection.HostToTailnet, protocol, listen, PortMappingParser.FormatHostPort(host, port), 0, null);
    }

    /// <summary>
    /// Reads the CLI's <c>--publish</c> syntax, <c>tcp|udp:PORT=HOST_ADDR:PORT</c>, into a
    /// <see cref="PortMappingDirection.TailnetToHost"/> mapping: <c>tcp:80=127.0.0.1:8000</c>,
    /// <c>udp:53=[::1]:5353</c>. The overlay port is 1–65535; the host address is an IP literal (IPv6 in brackets).
    /// </summary>
    /// <exception cref="FormatException">The text does not match; the message quotes it and says what is wrong.</exception>
    public static PortMapping ParsePublish(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var (protocol, overlayPort, hostTarget) = PortMappingParser.ParsePublish(text);
        return new PortMapping(PortMappingDirection.TailnetToHost, protocol, null, null, overlayPort, hostTarget);
    }

    /// <summary>The mapping in the CLI syntax: <c>tcp:127.0.0.1:8080=100.64.0.1:80</c> or <c>udp:53=127.0.0.1:5353</c>.</summary>
    public override string ToString()
    {
        var protocol = Protocol == PortProtocol.Tcp ? "tcp" : "udp";
        return Direction == PortMappingDirection.HostToTailnet
            ? $"{protocol}:{PortMappingParser.FormatEndPoint(Listen!)}={Target}"
            : $"{protocol}:{OverlayPort.ToString(CultureInfo.InvariantCulture)}={PortMappingParser.FormatEndPoint(HostTarget!)}";
    }

    /// <inheritdoc/>
    public bool Equals(PortMapping? other) => other is not null && string.Equals(ToString(), other.ToString(), StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PortMapping);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());

    private static void CheckProtocol(PortProtocol protocol)
    {
        if (protocol is not (PortProtocol.Tcp or PortProtocol.Udp))
        {
            throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "The protocol must be Tcp or Udp.");
        }
    }
}
