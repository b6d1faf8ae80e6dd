using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace TsNet.Tool.LocalApi;

/// <summary>Encodes local API answer lines: <c>{"kind":VALUE}</c> and a newline, as UTF-8 bytes.</summary>
internal static class LocalApiAnswerWriter
{
    /// <summary>A line whose value is <paramref name="value"/> serialized with <paramref name="typeInfo"/>.</summary>
    public static byte[] Line<T>(string kind, T value, JsonTypeInfo<T> typeInfo)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName(kind);
            JsonSerializer.Serialize(writer, value, typeInfo);
            writer.WriteEndObject();
        }

        return Terminated(buffer);
    }

    /// <summary>A line whose value is the string <paramref name="text"/> (a reason).</summary>
    public static byte[] Line(string kind, string text)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(kind, text);
            writer.WriteEndObject();
        }

        return Terminated(buffer);
    }

    private static byte[] Terminated(ArrayBufferWriter<byte> buffer)
    {
        var line = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(line);
        line[^1] = (byte)'\n';
        return line;
    }
}
