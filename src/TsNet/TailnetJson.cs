using System.Text.Json.Serialization.Metadata;
using TsNet.Json;

namespace TsNet;

/// <summary>
/// Source-generated <c>System.Text.Json</c> metadata for <see cref="TailnetStatus"/> and
/// <see cref="TailnetPeerIdentity"/>, for trimmed and NativeAOT apps where reflection-based serialization is off:
/// <c>JsonSerializer.Serialize(status, TailnetJson.Status)</c>. The JSON is the same as plain <c>JsonSerializer</c>'s.
/// </summary>
public static class TailnetJson
{
    /// <summary>Reads and writes <see cref="TailnetStatus"/>.</summary>
    public static JsonTypeInfo<TailnetStatus> Status => TailnetJsonContext.Default.TailnetStatus;

    /// <summary>Reads and writes <see cref="TailnetPeerIdentity"/>.</summary>
    public static JsonTypeInfo<TailnetPeerIdentity> PeerIdentity => TailnetJsonContext.Default.TailnetPeerIdentity;

    /// <summary>Both types' metadata, to combine into an app's own options (<c>JsonTypeInfoResolver.Combine</c>).</summary>
    public static IJsonTypeInfoResolver Resolver => TailnetJsonContext.Default;
}
