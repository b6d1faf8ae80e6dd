using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace TsNet.Tool.Http;

/// <summary>
/// Refuses (400) a request target that tries to leave the served directory or is malformed, before anything maps it to
/// a file: the path as sent (<see cref="IHttpRequestFeature.RawTarget"/>, since Kestrel already removed dot segments
/// from <see cref="HttpRequest.Path"/>) is percent-decoded strictly as UTF-8, and a <c>.</c> or <c>..</c> segment, a
/// backslash or a NUL — also when escaped, e.g. <c>..%2f</c> — makes it a bad request rather than a quiet 404.
/// </summary>
internal static class RequestTargetGuard
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Middleware: answers 400 for a bad target, else passes the request on.</summary>
    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        if (IsAcceptable(target))
        {
            return next(context);
        }

        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return Task.CompletedTask;
    }

    /// <summary>True when <paramref name="target"/> (origin form, e.g. <c>/dir/file.bin?x</c>) names a path inside the root.</summary>
    public static bool IsAcceptable(string target)
    {
        if (!target.StartsWith('/'))
        {
            return false; // absolute-form or asterisk targets name no file here
        }

        var end = target.AsSpan().IndexOfAny('?', '#');
        if (!TryPercentDecode(end < 0 ? target : target[..end], out var path))
        {
            return false;
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment is "." or ".." || segment.Contains('\\', StringComparison.Ordinal) || segment.Contains('\0', StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    // RFC 3986 percent-decoding that refuses malformed escapes and invalid UTF-8 instead of passing them through.
    private static bool TryPercentDecode(string text, out string decoded)
    {
        decoded = string.Empty;
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '%')
            {
                if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
                {
                    return false;
                }

                bytes.Add(Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
            }
            else if (c > 0x7F)
            {
                return false;
            }
            else
            {
                bytes.Add((byte)c);
            }
        }

        try
        {
            decoded = s_strictUtf8.GetString(bytes.ToArray());
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
