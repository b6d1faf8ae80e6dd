using System.Net;
using Microsoft.Extensions.Logging;
using TsNet.Control.State;

namespace TsNet.Control.Session;

/// <summary>Everything a control session needs from the node, fixed when the node starts.</summary>
internal sealed class ControlSessionContext
{
    /// <summary>The coordination server.</summary>
    public required Uri ControlUrl { get; init; }

    /// <summary>Machine key, node key and login flag (loaded from or made for the state directory).</summary>
    public required ControlState State { get; init; }

    /// <summary>Where <see cref="State"/> is saved (null: in memory only, an ephemeral node without a state directory).</summary>
    public string? StateDirectory { get; init; }

    /// <summary>The auth key from the options or <c>TS_AUTHKEY</c> (null: interactive login). Never written to disk.</summary>
    public string? AuthKey { get; init; }

    /// <summary>The host name to register with (already defaulted and sanitised).</summary>
    public required string Hostname { get; init; }

    /// <summary>Register as ephemeral.</summary>
    public bool Ephemeral { get; init; }

    /// <summary>Requested ACL tags.</summary>
    public IReadOnlyList<string> AdvertiseTags { get; init; } = [];

    /// <summary>Advertised subnet routes (Hostinfo.RoutableIPs).</summary>
    public IReadOnlyList<IPNetwork> AdvertiseRoutes { get; init; } = [];

    /// <summary>Use other nodes' subnet routes.</summary>
    public bool AcceptRoutes { get; init; }

    /// <summary>Announced capability version (113–119).</summary>
    public required int CapabilityVersion { get; init; }

    /// <summary>This start's disco public key (sent to control).</summary>
    public required DiscoKey DiscoPublicKey { get; init; }

    /// <summary>Clock for backoff, keep-alive timeouts and expiry.</summary>
    public required TimeProvider TimeProvider { get; init; }

    /// <summary>Logger factory of the node.</summary>
    public required ILoggerFactory LoggerFactory { get; init; }

    /// <summary>A test root the TLS connection to an https control URL also trusts (tests only).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? TrustedRootForTests { get; init; }
}
