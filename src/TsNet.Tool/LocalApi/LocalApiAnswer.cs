using System.Text.Json;

namespace TsNet.Tool.LocalApi;

/// <summary>One answer line of the local API: what it is (<see cref="LocalApiAnswerKind"/>) and its JSON value.</summary>
/// <param name="Kind">The line's single property name.</param>
/// <param name="Value">The property's value (detached from the parsed document).</param>
internal sealed record LocalApiAnswer(string Kind, JsonElement Value)
{
    /// <summary>Parses a line <c>{"kind":VALUE}</c>.</summary>
    /// <exception cref="InvalidDataException">The line is not one JSON object with exactly one property.</exception>
    public static LocalApiAnswer Parse(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                using var properties = document.RootElement.EnumerateObject();
                if (properties.MoveNext())
                {
                    var only = properties.Current;
                    if (!properties.MoveNext())
                    {
                        return new LocalApiAnswer(only.Name, only.Value.Clone());
                    }
                }
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException("the node sent a line that is not JSON: " + e.Message, e);
        }

        throw new InvalidDataException("the node sent a line that is not a one-property JSON object");
    }

    /// <summary>The value as text (the reason of <c>noReply</c>, <c>unknown</c> and <c>error</c> lines).</summary>
    public string Text => Value.ValueKind == JsonValueKind.String ? Value.GetString()! : Value.GetRawText();
}
