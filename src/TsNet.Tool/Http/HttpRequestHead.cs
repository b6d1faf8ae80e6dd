namespace TsNet.Tool.Http;

/// <summary>The validated meaning of a request head (see <see cref="HttpHeadParser"/>).</summary>
/// <param name="Method">The method token, e.g. <c>GET</c> (case-sensitive, as HTTP defines it).</param>
/// <param name="Target">The request target as sent, e.g. <c>/file.bin?x=1</c>.</param>
/// <param name="MinorVersion">1 for HTTP/1.1, 0 for HTTP/1.0.</param>
/// <param name="Headers">The header fields in order, names as sent.</param>
/// <param name="ContentLength">The body length from <c>Content-Length</c>; null when absent.</param>
/// <param name="Chunked">True when the body uses <c>Transfer-Encoding: chunked</c>.</param>
/// <param name="KeepAlive">True when the client lets the connection carry another request afterwards.</param>
/// <param name="ExpectContinue">True when the client waits for <c>100 Continue</c> before sending the body.</param>
internal sealed record HttpRequestHead(
    string Method,
    string Target,
    int MinorVersion,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    long? ContentLength,
    bool Chunked,
    bool KeepAlive,
    bool ExpectContinue)
{
    /// <summary>True when a body follows the head.</summary>
    public bool HasBody => Chunked || ContentLength > 0;

    /// <summary>The first value of header <paramref name="name"/> (case-insensitive), or null.</summary>
    public string? Header(string name) =>
        Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}
