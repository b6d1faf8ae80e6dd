using System.Net;
using Microsoft.Extensions.Logging;

namespace TsNet;

/// <summary>Settings of a <see cref="UdpRelayServer"/>; copied when the server starts (later changes have no effect).</summary>
public sealed class UdpRelayServerOptions
{
    /// <summary>UDP port for every bind address; 0 (the default) picks one ephemeral port shared by all of them.</summary>
    public int Port { get; set; }

    /// <summary>
    /// Local addresses to bind, one socket each. Empty (the default): the IPv4 wildcard plus the IPv6 wildcard when the
    /// host has IPv6 — a relay exists to be reached from other hosts. Relaying between families is allowed.
    /// </summary>
    public IList<IPAddress> BindAddresses { get; } = new List<IPAddress>();

    /// <summary>
    /// Candidate addresses the server tells clients to Bind to (tailscale's static addr:ports), listed first in every
    /// <see cref="RelayEndpoint.AddressPorts"/>; e.g. a public address a NAT forwards to this host.
    /// </summary>
    public IList<IPEndPoint> AdvertisedEndpoints { get; } = new List<IPEndPoint>();

    /// <summary>
    /// Also advertise the bound sockets' own addresses (default true): a specific bind address as it is, a wildcard as
    /// the host's interface addresses (non-loopback first, IPv6 link-local left out), all with the bound port. With
    /// this off and no <see cref="AdvertisedEndpoints"/>, allocations fail with
    /// <see cref="UdpRelayServerNotReadyException"/> until <see cref="UdpRelayServer.SetAdvertisedEndpoints"/> provides some.
    /// </summary>
    public bool AdvertiseLocalAddresses { get; set; } = true;

    /// <summary>An endpoint not bound by both clients within this time of allocation expires. Default 30 s (tailscale's).</summary>
    public TimeSpan BindLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A bound endpoint expires when either client has sent nothing through it for this long. Default 5 min.</summary>
    public TimeSpan SteadyStateLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The server's disco private key; a fresh one is generated per start when null (tailscale does the same).</summary>
    public DiscoKey? DiscoPrivateKey { get; set; }

    /// <summary>Clock for lifetimes and the collection timer; <see cref="TimeProvider.System"/> when null.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Logging; none when null.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal UdpRelayServerOptions Copy()
    {
        var copy = new UdpRelayServerOptions
        {
            Port = Port,
            AdvertiseLocalAddresses = AdvertiseLocalAddresses,
            BindLifetime = BindLifetime,
            SteadyStateLifetime = SteadyStateLifetime,
            DiscoPrivateKey = DiscoPrivateKey,
            TimeProvider = TimeProvider,
            LoggerFactory = LoggerFactory,
        };
        foreach (var address in BindAddresses)
        {
            copy.BindAddresses.Add(address);
        }

        foreach (var endPoint in AdvertisedEndpoints)
        {
            copy.AdvertisedEndpoints.Add(endPoint);
        }

        return copy;
    }
}
