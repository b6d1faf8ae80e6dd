using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using TsNet.Control.Protocol;
using TsNet.Control.Session;
using TsNet.Control.Transport;

namespace TsNet.Control.Client;

/// <summary>
/// The real <see cref="IControlChannel"/>: <c>GET /key</c>, then one ts2021 <see cref="ControlConnection"/> whose
/// HTTP/2 connection carries register, the map poll and lite updates.
/// </summary>
internal sealed class ControlChannel : IControlChannel
{
    /// <summary>Register answers are small; Headscale limits request bodies to 1 MiB, the same bound serves answers.</summary>
    public const int MaxRegisterResponseBytes = 1 << 20;

    // Error bodies are a line of text; only their start is kept for the log.
    private const int MaxErrorBodyBytes = 4 * 1024;

    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly ControlConnection _connection;

    private ControlChannel(ControlConnection connection)
    {
        _connection = connection;
    }

    /// <inheritdoc />
    public MachinePublicKey ServerKey => _connection.ServerPublicKey;

    /// <summary>Fetches the server's key and connects (bounded by the transport's connect timeout).</summary>
    public static async Task<IControlChannel> ConnectAsync(ControlSessionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ControlKeyClient.ServerKeys keys;
        using (var handler = ControlTls.KeyHandler(context.TrustedRootForTests))
        using (var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) })
        {
            keys = await ControlKeyClient.FetchAsync(http, context.ControlUrl, context.CapabilityVersion, cancellationToken).ConfigureAwait(false);
        }

        var options = new ControlConnectionOptions
        {
            ServerUrl = context.ControlUrl,
            MachineKey = MachinePrivateKey.FromBytes(context.State.MachineKey.Bytes),
            ControlKey = keys.PublicKey,
            ProtocolVersion = checked((ushort)context.CapabilityVersion),
            TrustedRootForTests = context.TrustedRootForTests,
        };
        var connection = await ControlConnection.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        return new ControlChannel(connection);
    }

    /// <inheritdoc />
    public async Task<RegisterResponse> RegisterAsync(RegisterRequest request, CancellationToken cancellationToken)
    {
        using var message = Post("/machine/register", JsonSerializer.SerializeToUtf8Bytes(request, ControlJsonContext.Default.RegisterRequest), request.NodeKey);
        using var response = await _connection.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var body = await ReadBoundedAsync(response.Content, MaxRegisterResponseBytes, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new ControlHttpException("/machine/register", response.StatusCode, ErrorText(body));
        }

        try
        {
            return JsonSerializer.Deserialize(body, ControlJsonContext.Default.RegisterResponse)
                ?? throw new ControlProtocolException("The register answer is JSON null.");
        }
        catch (JsonException e)
        {
            throw new ControlProtocolException("The register answer is not valid JSON: " + e.Message, e);
        }
    }

    /// <inheritdoc />
    public async Task<IMapStream> OpenMapAsync(MapRequest request, CancellationToken cancellationToken)
    {
        using var message = Post("/machine/map", JsonSerializer.SerializeToUtf8Bytes(request, ControlJsonContext.Default.MapRequest), request.NodeKey);
        var response = await _connection.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var body = await ReadBoundedAsync(response.Content, MaxErrorBodyBytes, cancellationToken, truncate: true).ConfigureAwait(false);
                throw new ControlHttpException("/machine/map", response.StatusCode, ErrorText(body));
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new MapStream(response, stream, request.Compress == MapRequest.Zstd);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async Task SendLiteUpdateAsync(MapRequest request, CancellationToken cancellationToken)
    {
        using var message = Post("/machine/map", JsonSerializer.SerializeToUtf8Bytes(request, ControlJsonContext.Default.MapRequest), request.NodeKey);

        // Only the status matters; the Go test server answers with a whole framed map, which disposing discards.
        using var response = await _connection.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await ReadBoundedAsync(response.Content, MaxErrorBodyBytes, cancellationToken, truncate: true).ConfigureAwait(false);
            throw new ControlHttpException("/machine/map", response.StatusCode, ErrorText(body));
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    private static HttpRequestMessage Post(string path, byte[] json, string? nodeKey)
    {
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = Json;
        var message = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        if (nodeKey is not null)
        {
            // Load-balancer hint (doc §7): the request's node key.
            message.Headers.TryAddWithoutValidation("Ts-Lb", nodeKey);
        }

        return message;
    }

    private static string ErrorText(byte[] body) => Encoding.UTF8.GetString(body).Trim();

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, int limit, CancellationToken cancellationToken, bool truncate = false)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[Math.Min(limit + 1, 64 * 1024)];
        var total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (buffer.Length > limit)
                {
                    if (truncate)
                    {
                        return buffer.AsSpan(0, limit).ToArray();
                    }

                    throw new ControlProtocolException($"A control answer exceeds {limit} bytes.");
                }

                Array.Resize(ref buffer, Math.Min(limit + 1, buffer.Length * 2));
            }

            var read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer.AsSpan(0, total).ToArray();
            }

            total += read;
        }
    }

    private sealed class MapStream(HttpResponseMessage response, Stream body, bool zstd) : IMapStream
    {
        private readonly MapFrameReader _reader = new(body, zstd);

        public ValueTask<MapResponse?> ReadAsync(CancellationToken cancellationToken) => _reader.ReadAsync(cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await body.DisposeAsync().ConfigureAwait(false);
            response.Dispose();
        }
    }
}
