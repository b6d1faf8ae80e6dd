using System.Text.Json;

namespace TsNet.Control.Netmap;

/// <summary>
/// The packet filter as named raw chunks (protocol doc §9.3): <c>PacketFilter</c> replaces the chunk <c>base</c>,
/// <c>PacketFilters</c> sets chunks by name, a null value deletes one and <c>"*": null</c> clears all first. The
/// effective filter is every chunk's rules concatenated in name order. Values that are not arrays are ignored.
/// </summary>
internal sealed class PacketFilterChunks
{
    /// <summary>Name of the chunk <c>PacketFilter</c> replaces.</summary>
    public const string BaseChunk = "base";

    private readonly SortedDictionary<string, JsonElement> _chunks = new(StringComparer.Ordinal);
    private bool _received;

    /// <summary>Applies a message's filter fields; true when the effective filter may have changed.</summary>
    public bool Apply(JsonElement? packetFilter, IReadOnlyDictionary<string, JsonElement>? packetFilters)
    {
        var changed = false;
        if (packetFilters is not null)
        {
            if (packetFilters.TryGetValue("*", out var all) && all.ValueKind == JsonValueKind.Null)
            {
                _chunks.Clear();
            }

            foreach (var (name, rules) in packetFilters)
            {
                if (name == "*")
                {
                    continue;
                }

                if (rules.ValueKind == JsonValueKind.Null)
                {
                    _chunks.Remove(name);
                }
                else if (rules.ValueKind == JsonValueKind.Array)
                {
                    _chunks[name] = rules;
                }
            }

            changed = true;
        }

        if (packetFilter is { ValueKind: JsonValueKind.Array } baseRules)
        {
            _chunks[BaseChunk] = baseRules;
            changed = true;
        }

        _received |= changed;
        return changed;
    }

    /// <summary>The effective rules as one JSON array; null when the server has sent no filter yet.</summary>
    public JsonElement? Effective()
    {
        if (!_received)
        {
            return null;
        }

        if (_chunks.Count == 1)
        {
            foreach (var only in _chunks.Values)
            {
                return only;
            }
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var rules in _chunks.Values)
            {
                foreach (var rule in rules.EnumerateArray())
                {
                    rule.WriteTo(writer);
                }
            }

            writer.WriteEndArray();
        }

        using var document = JsonDocument.Parse(buffer.ToArray());
        return document.RootElement.Clone();
    }
}
