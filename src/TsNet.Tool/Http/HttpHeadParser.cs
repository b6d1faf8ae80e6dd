using System.Buffers;
using System.Globalization;
using System.Text;

namespace TsNet.Tool.Http;

/// <summary>
/// Parses an HTTP/1.x request head (RFC 9112 §2–§3, §5–§6) from received bytes. Untrusted input: every rule the
/// server relies on is checked here, and anything malformed, ambiguous or too large becomes an
/// <see cref="HttpRequestRejectedException"/> with the status to answer (400, 417, 431, 501, 505).
/// </summary>
internal static class HttpHeadParser
{
    /// <summary>
    /// Tries to parse a complete head at the start of <paramref name="buffer"/>. Returns false when more bytes are
    /// needed (and the buffer is still within <paramref name="maxHeadBytes"/>); true with the head and the position
    /// just after it otherwise.
    /// </summary>
    /// <exception cref="HttpRequestRejectedException">The head is malformed or larger than <paramref name="maxHeadBytes"/>.</exception>
    public static bool TryParse(ReadOnlySequence<byte> buffer, int maxHeadBytes, out HttpRequestHead? head, out SequencePosition consumed)
    {
        head = null;
        consumed = buffer.Start;
        var reader = new SequenceReader<byte>(buffer);
        var lines = new List<string>();
        while (true)
        {
            if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
            {
                if (buffer.Length > maxHeadBytes)
                {
                    throw new HttpRequestRejectedException(431, $"request head larger than {maxHeadBytes} bytes");
                }

                return false;
            }

            if (reader.Consumed > maxHeadBytes)
            {
                throw new HttpRequestRejectedException(431, $"request head larger than {maxHeadBytes} bytes");
            }

            var text = DecodeLine(line);

            // RFC 9112 §2.2: a server SHOULD ignore empty lines received before the request line.
            if (text.Length == 0 && lines.Count == 0)
            {
                continue;
            }

            if (text.Length == 0)
            {
                break;
            }

            lines.Add(text);
        }

        consumed = reader.Position;
        head = Interpret(lines);
        return true;
    }

    // Lines end in CRLF; a bare LF is tolerated (RFC 9112 §2.2). Bytes are Latin-1; control characters other than
    // HTAB (a bare CR, NUL, ...) are never valid in a head.
    private static string DecodeLine(ReadOnlySequence<byte> line)
    {
        var length = (int)line.Length;
        Span<byte> bytes = length <= 512 ? stackalloc byte[length] : new byte[length];
        line.CopyTo(bytes);
        if (bytes.Length > 0 && bytes[^1] == (byte)'\r')
        {
            bytes = bytes[..^1];
        }

        foreach (var b in bytes)
        {
            if ((b < 0x20 && b != (byte)'\t') || b == 0x7F)
            {
                throw new HttpRequestRejectedException("control character in the request head");
            }
        }

        return Encoding.Latin1.GetString(bytes);
    }

    private static HttpRequestHead Interpret(List<string> lines)
    {
        var (method, target, minor) = ParseRequestLine(lines[0]);
        var headers = new List<KeyValuePair<string, string>>(lines.Count - 1);
        for (var i = 1; i < lines.Count; i++)
        {
            headers.Add(ParseField(lines[i]));
        }

        long? contentLength = null;
        var transferCodings = new List<string>();
        var connectionTokens = new List<string>();
        var hosts = 0;
        var expectContinue = false;
        foreach (var (name, value) in headers)
        {
            if (Is(name, "Content-Length"))
            {
                var length = ParseContentLength(value);
                if (contentLength is not null && contentLength != length)
                {
                    throw new HttpRequestRejectedException("conflicting Content-Length headers");
                }

                contentLength = length;
            }
            else if (Is(name, "Transfer-Encoding"))
            {
                transferCodings.AddRange(SplitList(value));
            }
            else if (Is(name, "Connection"))
            {
                connectionTokens.AddRange(SplitList(value));
            }
            else if (Is(name, "Host"))
            {
                hosts++;
            }
            else if (Is(name, "Expect"))
            {
                expectContinue = Is(value.Trim(), "100-continue")
                    ? true
                    : throw new HttpRequestRejectedException(417, $"unsupported expectation '{value}'");
            }
        }

        // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without exactly one Host field.
        if (minor == 1 && hosts != 1)
        {
            throw new HttpRequestRejectedException(hosts == 0 ? "missing Host header" : "more than one Host header");
        }

        var chunked = false;
        if (transferCodings.Count > 0)
        {
            // Both framings at once is the classic request-smuggling shape (RFC 9112 §6.3): refuse it.
            if (contentLength is not null)
            {
                throw new HttpRequestRejectedException("both Transfer-Encoding and Content-Length");
            }

            if (transferCodings.Count != 1 || !Is(transferCodings[0], "chunked"))
            {
                throw new HttpRequestRejectedException(501, $"unsupported transfer coding '{string.Join(", ", transferCodings)}'");
            }

            chunked = true;
        }

        var keepAlive = minor == 1
            ? !connectionTokens.Any(t => Is(t, "close"))
            : connectionTokens.Any(t => Is(t, "keep-alive")) && !connectionTokens.Any(t => Is(t, "close"));
        return new HttpRequestHead(method, target, minor, headers, contentLength, chunked, keepAlive, expectContinue && (chunked || contentLength > 0));
    }

    private static (string Method, string Target, int Minor) ParseRequestLine(string line)
    {
        var parts = line.Split(' ');
        if (parts.Length != 3 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            throw new HttpRequestRejectedException("malformed request line");
        }

        if (!parts[0].All(IsTokenChar))
        {
            throw new HttpRequestRejectedException("malformed method");
        }

        if (parts[1].Any(c => c <= ' ' || c >= 0x7F))
        {
            throw new HttpRequestRejectedException("malformed request target");
        }

        var version = parts[2];
        if (version.Length != 8 || !version.StartsWith("HTTP/", StringComparison.Ordinal) || !char.IsAsciiDigit(version[5]) || version[6] != '.' || !char.IsAsciiDigit(version[7]))
        {
            throw new HttpRequestRejectedException("malformed HTTP version");
        }

        if (version[5] != '1')
        {
            throw new HttpRequestRejectedException(505, $"unsupported version {version}");
        }

        return (parts[0], parts[1], version[7] == '0' ? 0 : 1);
    }

    private static KeyValuePair<string, string> ParseField(string line)
    {
        // RFC 9112 §5.2: obsolete line folding is rejected with 400; §5.1: no whitespace before the colon.
        if (line[0] is ' ' or '\t')
        {
            throw new HttpRequestRejectedException("obsolete header line folding");
        }

        var colon = line.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new HttpRequestRejectedException("malformed header line");
        }

        var name = line[..colon];
        if (!name.All(IsTokenChar))
        {
            throw new HttpRequestRejectedException($"malformed header name '{name}'");
        }

        return new(name, line[(colon + 1)..].Trim(' ', '\t'));
    }

    private static long ParseContentLength(string value)
    {
        // Digits only (no sign, no spaces inside); 18 digits cannot overflow a long.
        if (value.Length is 0 or > 18 || !value.All(char.IsAsciiDigit))
        {
            throw new HttpRequestRejectedException($"malformed Content-Length '{value}'");
        }

        return long.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    private static IEnumerable<string> SplitList(string value) =>
        value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static bool Is(string text, string expected) => string.Equals(text, expected, StringComparison.OrdinalIgnoreCase);

    // RFC 9110 §5.6.2 tchar.
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
}
