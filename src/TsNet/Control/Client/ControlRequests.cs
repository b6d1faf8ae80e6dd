using System.Net;
using TsNet.Control.Protocol;
using TsNet.Control.Session;
using TsNet.Control.State;

namespace TsNet.Control.Client;

/// <summary>Builds the session's requests from the context and the current state (protocol doc §8.1, §9.1). Pure.</summary>
internal static class ControlRequests
{
    /// <summary>
    /// The Hostinfo sent with every request: host name, requested tags, advertised routes, home DERP region (0 = none
    /// yet) and DERP latencies (wire form, see <see cref="NetInfoLatency"/>).
    /// </summary>
    public static Hostinfo Hostinfo(ControlSessionContext context, int homeDerp = 0, IReadOnlyDictionary<string, double>? derpLatency = null) =>
        HostinfoFactory.Create(context.Hostname, IPNetworkLists.ToArray(context.AdvertiseRoutes), [.. context.AdvertiseTags], homeDerp, derpLatency);

    /// <summary>
    /// A register request for the state's node key (and its old key when rotating). <paramref name="authKey"/> null:
    /// a stored login or an interactive one; <paramref name="followup"/>: the <c>AuthURL</c> being waited for.
    /// </summary>
    public static RegisterRequest Register(ControlSessionContext context, ControlState state, string? authKey, string? followup, DateTimeOffset now) => new()
    {
        Version = context.CapabilityVersion,
        NodeKey = NodeKeyText(state.NodeKey),
        OldNodeKey = state.OldNodeKey is { } old ? NodeKeyText(old) : null,
        Auth = string.IsNullOrEmpty(authKey) ? null : new RegisterAuth { AuthKey = authKey },
        Followup = followup,
        Hostinfo = Hostinfo(context),
        Ephemeral = context.Ephemeral,
        Timestamp = TruncateToSeconds(now),
    };

    /// <summary>The logout request: the current node key with an expiry in the past (Go's <c>time.Unix(123, 0)</c>).</summary>
    public static RegisterRequest Logout(ControlSessionContext context, ControlState state, DateTimeOffset now) => new()
    {
        Version = context.CapabilityVersion,
        NodeKey = NodeKeyText(state.NodeKey),
        Expiry = RegisterRequest.LogoutExpiry,
        Hostinfo = Hostinfo(context),
        Ephemeral = context.Ephemeral,
        Timestamp = TruncateToSeconds(now),
    };

    /// <summary>The streaming map poll (<c>Stream</c>, <c>KeepAlive</c>, zstd) carrying the latest endpoints.</summary>
    public static MapRequest StreamingMap(ControlSessionContext context, ControlState state, IReadOnlyList<IPEndPoint> endpoints, int homeDerp = 0, IReadOnlyDictionary<string, double>? derpLatency = null) => new()
    {
        Version = context.CapabilityVersion,
        Compress = MapRequest.Zstd,
        KeepAlive = true,
        NodeKey = NodeKeyText(state.NodeKey),
        DiscoKey = ControlKeyText.Format(context.DiscoPublicKey),
        Stream = true,
        Hostinfo = Hostinfo(context, homeDerp, derpLatency),
        Endpoints = EndpointTexts(endpoints),
    };

    /// <summary>A lite update (<c>Stream:false, OmitPeers:true</c>): endpoints, disco key and Hostinfo without disturbing the poll.</summary>
    public static MapRequest LiteUpdate(ControlSessionContext context, ControlState state, IReadOnlyList<IPEndPoint> endpoints, int homeDerp = 0, IReadOnlyDictionary<string, double>? derpLatency = null) => new()
    {
        Version = context.CapabilityVersion,
        NodeKey = NodeKeyText(state.NodeKey),
        DiscoKey = ControlKeyText.Format(context.DiscoPublicKey),
        Stream = false,
        OmitPeers = true,
        Hostinfo = Hostinfo(context, homeDerp, derpLatency),
        Endpoints = EndpointTexts(endpoints),
    };

    /// <summary><c>nodekey:</c> text of the public key of <paramref name="nodePrivateKey"/>.</summary>
    public static string NodeKeyText(WireGuardKey nodePrivateKey) =>
        ControlKeyText.Format(ControlKeyText.NodePublicPrefix, nodePrivateKey.PublicKey);

    /// <summary>Go's <c>netip.AddrPort</c> text: <c>1.2.3.4:41641</c>, <c>[2001:db8::1]:41641</c>.</summary>
    public static IReadOnlyList<string> EndpointTexts(IReadOnlyList<IPEndPoint> endpoints)
    {
        var texts = new string[endpoints.Count];
        for (var i = 0; i < texts.Length; i++)
        {
            texts[i] = endpoints[i].ToString();
        }

        return texts;
    }

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset time) =>
        new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), time.Offset);
}
