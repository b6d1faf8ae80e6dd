using System.Text.Json.Serialization;

namespace TsNet.Json;

/// <summary>
/// Source-generated JSON metadata of the public snapshot types. It lives here because their constructors and
/// converters are internal: a context in another assembly (an app, the tool) cannot generate them. Default options,
/// so the JSON is what plain <c>JsonSerializer</c> writes. Metadata only: writing walks the same metadata as reading
/// (no serialization fast path to carry in the native tool).
/// </summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(TailnetStatus))]
[JsonSerializable(typeof(TailnetPeerIdentity))]
internal sealed partial class TailnetJsonContext : JsonSerializerContext;
