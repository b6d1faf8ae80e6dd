using System.Buffers;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;

namespace TsNet.Tool.Http;

/// <summary>
/// Answers <c>GET</c>/<c>HEAD</c> of one file of the <see cref="WwwDirectory"/>: the content type by extension (any
/// other name as <c>application/octet-stream</c>, so every file downloads), <c>Last-Modified</c>/<c>ETag</c>
/// validators, the preconditions of RFC 9110 §13 (412 for a failed <c>If-Match</c>/<c>If-Unmodified-Since</c>, 304
/// for a matching <c>If-None-Match</c>/<c>If-Modified-Since</c>) and one byte range per request (206, or 416 when
/// unsatisfiable; <c>If-Range</c> honoured; see <see cref="ByteRange"/>). Written for the tool instead of ASP.NET
/// Core's static file middleware, which brings file watching, typed header parsing and its logging into the native
/// binary.
/// </summary>
internal static class StaticFileHandler
{
    /// <summary>The type of a file whose extension names none.</summary>
    public const string DefaultContentType = "application/octet-stream";

    private const int CopyBufferBytes = 64 * 1024;

    private static readonly FileExtensionContentTypeProvider s_contentTypes = new();

    /// <summary>Answers the GET or HEAD request in <paramref name="context"/> with <paramref name="file"/>.</summary>
    public static async Task ServeAsync(HttpContext context, FileInfo file)
    {
        var request = context.Request;
        var response = context.Response;
        FileStream stream;
        try
        {
            stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            response.StatusCode = StatusCodes.Status404NotFound; // gone since it was found
            return;
        }

        await using (stream.ConfigureAwait(false))
        {
            var length = stream.Length;
            var validators = new FileValidators(File.GetLastWriteTimeUtc(stream.SafeFileHandle), length);
            response.Headers.LastModified = validators.LastModifiedText;
            response.Headers.ETag = validators.ETag;
            response.Headers.AcceptRanges = "bytes";

            var status = Preconditions(request, validators);
            if (status != StatusCodes.Status200OK)
            {
                response.StatusCode = status;
                return;
            }

            var range = new ByteRange(0, length - 1);
            var rangeRequest = HttpMethods.IsGet(request.Method) && (request.Headers.IfRange.Count == 0 || validators.IfRangeHolds(request.Headers.IfRange.ToString()))
                ? ByteRange.Parse(request.Headers.Range.Count == 1 ? request.Headers.Range.ToString() : null, length, out range)
                : ByteRangeRequest.None;
            response.ContentType = s_contentTypes.TryGetContentType(request.Path.Value!, out var type) ? type : DefaultContentType;
            switch (rangeRequest)
            {
                case ByteRangeRequest.Unsatisfiable:
                    response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                    response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes */{length}");
                    response.ContentLength = 0;
                    return;
                case ByteRangeRequest.Range:
                    response.StatusCode = StatusCodes.Status206PartialContent;
                    response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {range.First}-{range.Last}/{length}");
                    break;
                default:
                    range = new ByteRange(0, length - 1);
                    response.StatusCode = StatusCodes.Status200OK;
                    break;
            }

            response.ContentLength = range.Length;
            if (HttpMethods.IsHead(request.Method) || range.Length == 0)
            {
                return;
            }

            await CopyAsync(stream, range, response.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    // RFC 9110 §13.2.2 order: If-Match, else If-Unmodified-Since; then If-None-Match, else If-Modified-Since.
    private static int Preconditions(HttpRequest request, FileValidators validators)
    {
        var headers = request.Headers;
        if (headers.IfMatch.Count > 0 ? !validators.MatchesAny(headers.IfMatch.ToString(), weak: false) : headers.IfUnmodifiedSince.Count > 0 && validators.ModifiedSince(headers.IfUnmodifiedSince.ToString()))
        {
            return StatusCodes.Status412PreconditionFailed;
        }

        if (headers.IfNoneMatch.Count > 0 ? validators.MatchesAny(headers.IfNoneMatch.ToString(), weak: true) : headers.IfModifiedSince.Count > 0 && validators.NotModifiedSince(headers.IfModifiedSince.ToString()))
        {
            return StatusCodes.Status304NotModified;
        }

        return StatusCodes.Status200OK;
    }

    private static async Task CopyAsync(FileStream stream, ByteRange range, Stream body, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(CopyBufferBytes, range.Length));
        try
        {
            stream.Position = range.First;
            var left = range.Length;
            while (left > 0)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break; // truncated while served: Kestrel ends the response short of Content-Length, which the client sees
                }

                await body.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                left -= read;
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away: nothing left to answer.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
