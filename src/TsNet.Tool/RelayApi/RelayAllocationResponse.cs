using System.Text;

namespace TsNet.Tool.RelayApi;

/// <summary>One answer of the allocation endpoint: status, content type, body and extra headers.</summary>
/// <param name="StatusCode">The HTTP status.</param>
/// <param name="ContentType">The body's media type.</param>
/// <param name="Body">The complete body (small: an endpoint's JSON or one line of text).</param>
/// <param name="Headers">Headers besides Content-Type and Content-Length (e.g. <c>Retry-After</c>, <c>Allow</c>).</param>
internal sealed record RelayAllocationResponse(int StatusCode, string ContentType, byte[] Body, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    /// <summary>A JSON answer (200).</summary>
    public static RelayAllocationResponse Json(byte[] body) => new(200, "application/json", body, []);

    /// <summary>An error answer with a one-line plain-text message, as Go's <c>http.Error</c> writes it.</summary>
    public static RelayAllocationResponse Error(int statusCode, string message, params KeyValuePair<string, string>[] headers) =>
        new(statusCode, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(message + "\n"), headers);
}
