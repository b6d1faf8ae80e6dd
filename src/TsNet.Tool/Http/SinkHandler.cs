using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace TsNet.Tool.Http;

/// <summary>
/// <c>PUT</c>/<c>POST /sink</c>: reads the whole request body of any length (Content-Length or chunked; "100 Continue"
/// is sent when asked for), hashing it as it streams by, and answers <c>200</c> with
/// <c>{"bytes":N,"sha256":"&lt;lowercase hex&gt;"}</c> and a newline.
/// </summary>
internal static class SinkHandler
{
    /// <summary>The upload target.</summary>
    public const string Path = "/sink";

    /// <summary>Answers one upload.</summary>
    public static async Task HandleAsync(HttpContext context)
    {
        // Kestrel's default body limit (30 MB) does not apply: the sink never holds the body, only its hash.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }

        var cancellationToken = context.RequestAborted;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        var body = context.Request.BodyReader;
        try
        {
            while (true)
            {
                var result = await body.ReadAsync(cancellationToken).ConfigureAwait(false);
                foreach (var segment in result.Buffer)
                {
                    hash.AppendData(segment.Span);
                }

                total += result.Buffer.Length;
                body.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client went away or sent a malformed body (Kestrel's BadHttpRequestException is an IOException and
            // already decided the status): nothing to answer, and not an application error.
            return;
        }

        var json = string.Create(CultureInfo.InvariantCulture, $"{{\"bytes\":{total},\"sha256\":\"{Convert.ToHexStringLower(hash.GetHashAndReset())}\"}}\n");
        var bytes = Encoding.UTF8.GetBytes(json);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }
}
