using System.Text.Json;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// A small typed view of <c>tailscale status --json</c> (ipnstate.Status of v1.36.2): the backend state, the node
/// itself and its peers. <see cref="RawJson"/> keeps the whole answer for anything else.
/// </summary>
public sealed record TailscaleStatus(
    string BackendState,
    string AuthUrl,
    IReadOnlyList<string> TailscaleIPs,
    string MagicDnsSuffix,
    TailscalePeerStatus? Self,
    IReadOnlyList<TailscalePeerStatus> Peers,
    string RawJson)
{
    /// <summary>The peer whose DNS name (with or without the trailing dot) or host name is <paramref name="name"/>, or null.</summary>
    public TailscalePeerStatus? FindPeer(string name) =>
        Peers.FirstOrDefault(peer =>
            string.Equals(peer.DNSName.TrimEnd('.'), name.TrimEnd('.'), StringComparison.OrdinalIgnoreCase) ||
            string.Equals(peer.HostName, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Parses the output of <c>tailscale status --json</c>.</summary>
    /// <exception cref="JsonException">Not such a document.</exception>
    public static TailscaleStatus Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var peers = new List<TailscalePeerStatus>();
        if (root.TryGetProperty("Peer", out var peerMap) && peerMap.ValueKind == JsonValueKind.Object)
        {
            foreach (var peer in peerMap.EnumerateObject())
            {
                peers.Add(TailscalePeerStatus.From(peer.Value));
            }
        }

        return new TailscaleStatus(
            Text(root, "BackendState"),
            Text(root, "AuthURL"),
            Strings(root, "TailscaleIPs"),
            Text(root, "MagicDNSSuffix"),
            root.TryGetProperty("Self", out var self) && self.ValueKind == JsonValueKind.Object ? TailscalePeerStatus.From(self) : null,
            peers,
            json);
    }

    internal static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? string.Empty : string.Empty;

    internal static IReadOnlyList<string> Strings(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Select(item => item.GetString() ?? string.Empty).ToList()
            : Array.Empty<string>();
}

/// <summary>
/// One node of a status (<c>Self</c> or a <c>Peer</c> entry). <see cref="CurAddr"/> is the direct UDP path in use
/// (empty when none); <see cref="Relay"/> the DERP region code (e.g. <c>test</c>).
/// </summary>
public sealed record TailscalePeerStatus(
    string PublicKey,
    string HostName,
    string DNSName,
    IReadOnlyList<string> TailscaleIPs,
    bool Online,
    string CurAddr,
    string Relay)
{
    internal static TailscalePeerStatus From(JsonElement element) => new(
        TailscaleStatus.Text(element, "PublicKey"),
        TailscaleStatus.Text(element, "HostName"),
        TailscaleStatus.Text(element, "DNSName"),
        TailscaleStatus.Strings(element, "TailscaleIPs"),
        element.TryGetProperty("Online", out var online) && online.ValueKind == JsonValueKind.True,
        TailscaleStatus.Text(element, "CurAddr"),
        TailscaleStatus.Text(element, "Relay"));
}
