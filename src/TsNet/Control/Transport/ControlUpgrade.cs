using System.Text;

namespace TsNet.Control.Transport;

/// <summary>
/// The HTTP/1.1 upgrade that carries the initiation (protocol doc §5.7): <c>POST /ts2021</c> with
/// <c>Upgrade: tailscale-control-protocol</c> and the initiation base64 in <c>X-Tailscale-Handshake</c>; the
/// answer must be <c>101</c> with the same Upgrade value, followed directly by the Noise response.
/// </summary>
internal static class ControlUpgrade
{
    public const string Path = "/ts2021";
    public const string UpgradeProtocol = "tailscale-control-protocol";
    public const string HandshakeHeader = "X-Tailscale-Handshake";

    // Response headers larger than this are not a control server's 101; refuse rather than buffer on.
    private const int MaxResponseHeaderBytes = 16 * 1024;

    // A refusal's body is quoted in the exception; only its start is useful.
    private const int MaxQuotedBodyBytes = 512;

    /// <summary>The request bytes, for <paramref name="hostHeader"/> (host[:port] as in the server URL).</summary>
    public static byte[] BuildRequest(string hostHeader, ReadOnlySpan<byte> initiation)
    {
        string request =
            $"POST {Path} HTTP/1.1\r\n" +
            $"Host: {hostHeader}\r\n" +
            $"Upgrade: {UpgradeProtocol}\r\n" +
            "Connection: upgrade\r\n" +
            $"{HandshakeHeader}: {Convert.ToBase64String(initiation)}\r\n" +
            "Content-Length: 0\r\n" +
            "\r\n";
        return Encoding.ASCII.GetBytes(request);
    }

    /// <summary>
    /// Reads the upgrade response from <paramref name="reader"/> up to the blank line; on anything but a proper
    /// 101 throws with the status (and the start of the body, which carries the server's reason).
    /// </summary>
    /// <exception cref="ControlTransportException">Not a 101, wrong Upgrade header, oversized or truncated headers.</exception>
    public static async ValueTask ReadResponseAsync(PrefixReader reader, CancellationToken cancellationToken)
    {
        string headers = await reader.ReadHeadersAsync(MaxResponseHeaderBytes, cancellationToken).ConfigureAwait(false);
        string[] lines = headers.Split("\r\n");
        string[] status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(status[1], System.Globalization.CultureInfo.InvariantCulture, out int code))
        {
            throw new ControlTransportException($"control server answered the upgrade with a malformed status line \"{lines[0]}\"");
        }

        if (code != 101)
        {
            // The body carries the server's reason. With a Content-Length read that much (bounded): the server
            // keeps the connection open, so reading on would wait; without one, only what has already arrived.
            int bodyBytes = int.TryParse(HeaderValue(lines, "Content-Length"), System.Globalization.CultureInfo.InvariantCulture, out int contentLength) && contentLength >= 0
                ? Math.Min(contentLength, MaxQuotedBodyBytes)
                : Math.Min(reader.Remaining.Length, MaxQuotedBodyBytes);
            string body = await reader.ReadTextAsync(bodyBytes, cancellationToken).ConfigureAwait(false);
            throw new ControlTransportException($"control server refused the ts2021 upgrade: HTTP {code} {(status.Length > 2 ? status[2] : string.Empty)}: {body.Trim()}");
        }

        string? upgrade = HeaderValue(lines, "Upgrade");
        if (!string.Equals(upgrade, UpgradeProtocol, StringComparison.Ordinal))
        {
            throw new ControlTransportException($"control server switched to \"{upgrade}\", expected \"{UpgradeProtocol}\"");
        }
    }

    private static string? HeaderValue(string[] lines, string name)
    {
        foreach (string line in lines.AsSpan(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }
}
