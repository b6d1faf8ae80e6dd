using System.Text.Json.Serialization;

namespace TsNet.Tool.LocalApi;

/// <summary>Source-generated (NativeAOT-safe) JSON of the tool's own local API types; the library's come from <see cref="TailnetJson"/>. Metadata only (no serialization fast path): smaller native code.</summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PingReply))]
internal sealed partial class LocalApiJsonContext : JsonSerializerContext;
