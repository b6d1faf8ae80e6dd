using System.Text.Json;

namespace TsNet.Derp;

/// <summary>The server's ServerInfo JSON (derp.md §4.2): version and an optional send rate limit.</summary>
/// <param name="Version">The server's protocol version (0 when absent).</param>
/// <param name="TokenBucketBytesPerSecond">Client send limit in bytes per second; 0 = none.</param>
/// <param name="TokenBucketBytesBurst">Client send burst in bytes; 0 = none.</param>
internal readonly record struct DerpServerInfo(int Version, long TokenBucketBytesPerSecond, long TokenBucketBytesBurst)
{
    /// <summary>Reads the JSON object tolerantly (unknown fields ignored); false when it is not a JSON object.</summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out DerpServerInfo info)
    {
        info = default;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            int version = 0;
            long rate = 0, burst = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isVersion = reader.ValueTextEquals("version"u8);
                var isRate = reader.ValueTextEquals("TokenBucketBytesPerSecond"u8);
                var isBurst = reader.ValueTextEquals("TokenBucketBytesBurst"u8);
                if (!reader.Read())
                {
                    return false;
                }

                if (reader.TokenType == JsonTokenType.Number)
                {
                    if (isVersion && reader.TryGetInt32(out var v))
                    {
                        version = v;
                    }
                    else if (isRate && reader.TryGetInt64(out var r))
                    {
                        rate = r;
                    }
                    else if (isBurst && reader.TryGetInt64(out var b))
                    {
                        burst = b;
                    }
                }
                else
                {
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject)
            {
                return false;
            }

            info = new(version, rate, burst);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
