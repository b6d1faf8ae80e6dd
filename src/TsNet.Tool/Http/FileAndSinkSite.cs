using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;

namespace TsNet.Tool.Http;

/// <summary>
/// What <c>tsnet up --http PORT --www DIR</c> serves: <c>GET</c>/<c>HEAD /NAME</c> streams <c>DIR/NAME</c>;
/// <c>PUT</c>/<c>POST /sink</c> reads the whole body (hashing it as it streams by) and answers
/// <c>{"bytes":N,"sha256":"HEX"}</c>.
/// </summary>
internal sealed class FileAndSinkSite
{
    /// <summary>The upload target.</summary>
    public const string SinkPath = "/sink";

    private readonly WwwRoot? _root;
    private readonly int _bufferBytes;

    /// <summary>A site serving files from <paramref name="root"/> (null: no files, only the sink).</summary>
    public FileAndSinkSite(WwwRoot? root, int bufferBytes)
    {
        _root = root;
        _bufferBytes = bufferBytes;
    }

    /// <summary>Answers one request.</summary>
    public async Task HandleAsync(HttpRequestHead request, HttpRequestBody body, HttpResponseWriter response, CancellationToken cancellationToken)
    {
        var path = request.Target.Split('?', 2)[0];
        if (path == SinkPath)
        {
            if (request.Method is "PUT" or "POST")
            {
                await SinkAsync(body, response, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await response.WriteErrorAsync(405, cancellationToken, [new("Allow", "PUT, POST")]).ConfigureAwait(false);
            }

            return;
        }

        if (request.Method is not ("GET" or "HEAD"))
        {
            await response.WriteErrorAsync(405, cancellationToken, [new("Allow", "GET, HEAD")]).ConfigureAwait(false);
            return;
        }

        if (_root is null)
        {
            await response.WriteErrorAsync(404, cancellationToken).ConfigureAwait(false);
            return;
        }

        switch (_root.Resolve(request.Target, out var file))
        {
            case WwwRoot.Resolution.BadRequest:
                await response.WriteErrorAsync(400, cancellationToken).ConfigureAwait(false);
                return;
            case WwwRoot.Resolution.NotFound:
                await response.WriteErrorAsync(404, cancellationToken).ConfigureAwait(false);
                return;
        }

        await ServeFileAsync(file, response, cancellationToken).ConfigureAwait(false);
    }

    private async Task ServeFileAsync(string file, HttpResponseWriter response, CancellationToken cancellationToken)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, _bufferBytes, useAsync: true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            await response.WriteErrorAsync(404, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (UnauthorizedAccessException)
        {
            await response.WriteErrorAsync(403, cancellationToken).ConfigureAwait(false);
            return;
        }

        await using (stream.ConfigureAwait(false))
        {
            var length = stream.Length;
            await response.WriteHeadAsync(200, length, ContentType(file), null, cancellationToken).ConfigureAwait(false);
            if (!response.OmitBody)
            {
                // Exactly the announced length, even if the file grows meanwhile; a shrinking file ends the connection.
                var buffer = ArrayPool<byte>.Shared.Rent(_bufferBytes);
                try
                {
                    for (long sent = 0; sent < length;)
                    {
                        var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(_bufferBytes, length - sent)), cancellationToken).ConfigureAwait(false);
                        if (read == 0)
                        {
                            throw new IOException($"{file} shrank while being sent");
                        }

                        await response.WriteBodyAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        sent += read;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            await response.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task SinkAsync(HttpRequestBody body, HttpResponseWriter response, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(_bufferBytes);
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, _bufferBytes), cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var json = string.Create(CultureInfo.InvariantCulture, $"{{\"bytes\":{body.BytesRead},\"sha256\":\"{Convert.ToHexStringLower(hash.GetHashAndReset())}\"}}");
        await response.WriteTextAsync(200, "application/json", json, cancellationToken).ConfigureAwait(false);
    }

    private static string ContentType(string file) => Path.GetExtension(file).ToLowerInvariant() switch
    {
        ".txt" => "text/plain; charset=utf-8",
        ".html" or ".htm" => "text/html; charset=utf-8",
        ".json" => "application/json",
        _ => "application/octet-stream",
    };
}
