using System.Text.Json.Serialization;

namespace TsNet.Control.Protocol;

/// <summary>
/// Source-generated (trimming-safe) JSON for the control protocol, in Go <c>encoding/json</c> conventions (protocol
/// doc §11): Go field names, names matched case-insensitively on input, unknown fields ignored, nulls left out on
/// output, integer map keys as decimal strings. Metadata only, no serialization fast path: requests are written from
/// the same metadata, once per poll, and the native tool is smaller without the fast-path code.
/// </summary>
[JsonSourceGenerationOptions(
    GenerationMode = JsonSourceGenerationMode.Metadata,
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    MaxDepth = 64)]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(RegisterResponse))]
[JsonSerializable(typeof(MapRequest))]
[JsonSerializable(typeof(MapResponse))]
[JsonSerializable(typeof(Node))]
[JsonSerializable(typeof(Hostinfo))]
[JsonSerializable(typeof(DERPMap))]
[JsonSerializable(typeof(DNSConfig))]
internal sealed partial class ControlJsonContext : JsonSerializerContext;
