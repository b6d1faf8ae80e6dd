using System.Buffers.Binary;
using System.Text.Json;

namespace TsNet.Control.Transport;

/// <summary>
/// The optional early payload the server sends inside Noise before HTTP/2 (protocol doc §5.8):
/// <c>ff ff ff 'T' 'S'</c> ‖ length(4, BE) ‖ JSON <c>tailcfg.EarlyNoise</c>. Absent, the first 9 plaintext bytes are
/// the server's HTTP/2 SETTINGS frame header and go back to the stream.
/// </summary>
/// <param name="Json">The raw JSON object.</param>
/// <param name="NodeKeyChallenge">The <c>nodeKeyChallenge</c> text (<c>chalpub:…</c>), or null when absent.</param>
internal sealed record ControlEarlyPayload(string Json, string? NodeKeyChallenge)
{
    public static ReadOnlySpan<byte> Magic => [0xff, 0xff, 0xff, (byte)'T', (byte)'S'];

    /// <summary>Magic (5) + length (4): also the size of an HTTP/2 frame header, which is what makes the probe work.</summary>
    public const int ProbeSize = 9;

    // EarlyNoise is one short key today; Go allows 10 MiB, but nothing that large is plausible and we keep it bounded.
    public const int MaxJsonBytes = 64 * 1024;

    /// <summary>
    /// Reads the early payload if the server sent one; otherwise pushes the probed bytes back and returns null.
    /// </summary>
    /// <exception cref="ControlTransportException">Truncated, oversized or non-JSON payload.</exception>
    public static async ValueTask<ControlEarlyPayload?> ReadAsync(ControlNoiseStream stream, CancellationToken cancellationToken)
    {
        byte[] probe = new byte[ProbeSize];
        int probed = await ReadUpToAsync(stream, probe, cancellationToken).ConfigureAwait(false);
        if (probed < Magic.Length || !probe.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            stream.PushBack(probe.AsSpan(0, probed));
            return null;
        }

        if (probed < ProbeSize)
        {
            throw new ControlTransportException("control channel closed inside the early payload header");
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(probe.AsSpan(Magic.Length));
        if (length > MaxJsonBytes)
        {
            throw new ControlTransportException($"early payload of {length} bytes exceeds the {MaxJsonBytes}-byte limit");
        }

        byte[] json = new byte[length];
        if (await ReadUpToAsync(stream, json, cancellationToken).ConfigureAwait(false) != json.Length)
        {
            throw new ControlTransportException("control channel closed inside the early payload");
        }

        return Parse(json);
    }

    /// <summary>Parses the JSON of an early payload.</summary>
    /// <exception cref="ControlTransportException">Not UTF-8, or not a JSON object.</exception>
    public static ControlEarlyPayload Parse(ReadOnlySpan<byte> json)
    {
        // The JSON reader checks structure, not the UTF-8 inside strings: that surfaces later as an
        // InvalidOperationException when a name or value is read (found by the fuzz command).
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new ControlTransportException("early payload is not valid UTF-8");
        }

        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ControlTransportException("early payload is not a JSON object");
            }

            string? challenge = null;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                // Go decodes field names case-insensitively.
                if (property.Name.Equals("nodeKeyChallenge", StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.String)
                {
                    challenge = property.Value.GetString();
                }
            }

            return new ControlEarlyPayload(System.Text.Encoding.UTF8.GetString(json), challenge);
        }
        catch (JsonException exception)
        {
            throw new ControlTransportException("early payload is not valid JSON", exception);
        }
    }

    private static async ValueTask<int> ReadUpToAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }
}
