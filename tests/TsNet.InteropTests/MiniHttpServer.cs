using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests;

/// <summary>
/// A deliberately tiny HTTP/1.1 responder for the interop tests, one request per connection (<c>Connection: close</c>):
/// <list type="bullet">
/// <item><c>GET /bytes/N[?seed=S]</c>: 200 with <c>N</c> bytes of <see cref="TestData"/> stream <c>S</c> (default 1).</item>
/// <item><c>PUT /sink</c> (or <c>POST</c>): reads a <c>Content-Length</c> body (answering <c>Expect: 100-continue</c>)
/// and replies 200 with <c>{"bytes":N,"sha256":"&lt;lowercase hex&gt;"}</c>, like <c>tsnet up --http</c>.</item>
/// <item>anything else: 404 / 405 / 411 / 400.</item>
/// </list>
/// It serves connections from any accept function, so it runs on a <see cref="TailnetListener"/> in the tests and on a
/// kernel <see cref="System.Net.Sockets.TcpListener"/> in its self-test. Every request is recorded in
/// <see cref="Exchanges"/>; failures of the server itself go to <see cref="Errors"/>.
/// </summary>
internal sealed class MiniHttpServer : IAsyncDisposable
{
    /// <summary>Bound for reading a request head.</summary>
    public static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(15);

    private const int MaxHeadBytes = 16 * 1024;
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    private readonly Func<CancellationToken, ValueTask<Stream?>> _accept;
    private readonly Func<ValueTask> _stopAccepting;
    private readonly TestLog _log;
    private readonly string _name;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<HttpExchange> _exchanges = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentDictionary<Task, byte> _handlers = new();
    private Task _acceptLoop = Task.CompletedTask;
    private int _connections;
    private int _disposed;

    private MiniHttpServer(Func<CancellationToken, ValueTask<Stream?>> accept, Func<ValueTask> stopAccepting, TestLog log, string name, int port)
    {
        Port = port;
        _accept = accept;
        _stopAccepting = stopAccepting;
        _log = log;
        _name = name;
    }

    /// <summary>The port it serves.</summary>
    public int Port { get; }

    /// <summary>The requests answered (or failed) so far, in completion order.</summary>
    public IReadOnlyList<HttpExchange> Exchanges => _exchanges.ToArray();

    /// <summary>Failures of the server itself (accept errors, broken connections).</summary>
    public IReadOnlyList<string> Errors => _errors.ToArray();

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Serves the connections of a tailnet listener; disposing the server disposes the listener.</summary>
    public static MiniHttpServer Start(TailnetListener listener, TestLog log)
    {
        ArgumentNullException.ThrowIfNull(listener);
        var endPoint = listener.LocalEndPoint;
        return Start(
            async ct => await listener.AcceptAsync(ct),
            () => listener.DisposeAsync(),
            log,
            "http " + endPoint,
            endPoint.Port);
    }

    /// <summary>Serves the streams <paramref name="accept"/> returns until it returns null or the server is disposed.</summary>
    public static MiniHttpServer Start(Func<CancellationToken, ValueTask<Stream?>> accept, Func<ValueTask> stopAccepting, TestLog log, string name, int port)
    {
        ArgumentNullException.ThrowIfNull(accept);
        ArgumentNullException.ThrowIfNull(stopAccepting);
        ArgumentNullException.ThrowIfNull(log);
        var server = new MiniHttpServer(accept, stopAccepting, log, name, port);
        server._acceptLoop = Task.Run(server.AcceptLoopAsync);
        return server;
    }

    /// <summary>Stops accepting, waits (bounded, 5 s each) for the accept loop and the open connections; never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        try
        {
            await _stopAccepting();
        }
        catch (Exception e)
        {
            _log.Write($"[{_name}] stopping the listener: {e.GetType().Name}: {e.Message}");
        }

        if (!await ProcessRunner.WaitBoundedAsync(_acceptLoop, TimeSpan.FromSeconds(5)))
        {
            _log.Write($"[{_name}] accept loop still running 5 s after dispose");
        }

        if (!await ProcessRunner.WaitBoundedAsync(Task.WhenAll(_handlers.Keys), TimeSpan.FromSeconds(5)))
        {
            _log.Write($"[{_name}] {_handlers.Count} connections still open 5 s after dispose");
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Stream? stream;
            try
            {
                stream = await _accept(_stopping.Token);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Fail($"accept failed: {e}");
                return;
            }

            if (stream is null)
            {
                return;
            }

            var number = Interlocked.Increment(ref _connections);
            var handler = Task.Run(() => ServeAsync(stream, number));
            _handlers.TryAdd(handler, 0);
            _ = handler.ContinueWith(t => _handlers.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(Stream stream, int number)
    {
        var clock = Stopwatch.StartNew();
        var prefix = $"[{_name} #{number}]";
        var buffer = ArrayPool<byte>.Shared.Rent(MaxHeadBytes);
        HttpExchange? exchange = null;
        try
        {
            await using (stream)
            {
                using var headTimeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                headTimeout.CancelAfter(HeadTimeout);
                var (headLength, filled) = await ReadHeadAsync(stream, buffer, headTimeout.Token);
                if (headLength < 0)
                {
                    Fail($"{prefix} connection closed or head too large before a complete request head ({filled} bytes)");
                    return;
                }

                var head = Encoding.ASCII.GetString(buffer, 0, headLength);
                var lines = head.Split("\r\n");
                var requestLine = lines[0].Split(' ');
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0)
                    {
                        headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                    }
                }

                _log.Write($"{prefix} {lines[0]}");
                if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
                {
                    exchange = await RespondAsync(stream, lines[0], 400, "bad request line\n", clock, _stopping.Token);
                    return;
                }

                var (method, target) = (requestLine[0], requestLine[1]);
                var path = target.Split('?')[0];
                var leftover = new ReadOnlyMemory<byte>(buffer, headLength + HeadEnd.Length, filled - headLength - HeadEnd.Length);
                if (path.StartsWith("/bytes/", StringComparison.Ordinal))
                {
                    exchange = method == "GET"
                        ? await ServeBytesAsync(stream, method, target, clock)
                        : await RespondAsync(stream, $"{method} {target}", 405, "GET only\n", clock, _stopping.Token);
                }
                else if (path == "/sink")
                {
                    exchange = method is "PUT" or "POST"
                        ? await ServeSinkAsync(stream, method, target, headers, leftover, clock, prefix)
                        : await RespondAsync(stream, $"{method} {target}", 405, "PUT or POST only\n", clock, _stopping.Token);
                }
                else
                {
                    exchange = await RespondAsync(stream, $"{method} {target}", 404, "not found\n", clock, _stopping.Token);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            _log.Write($"{prefix} cancelled by dispose");
        }
        catch (Exception e)
        {
            Fail($"{prefix} failed after {clock.Elapsed.TotalSeconds:0.000} s: {e}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (exchange is not null)
            {
                _exchanges.Enqueue(exchange);
                _log.Write($"{prefix} {exchange}");
            }
        }
    }

    private async Task<HttpExchange> ServeBytesAsync(Stream stream, string method, string target, Stopwatch clock)
    {
        var path = target.Split('?')[0];
        if (!long.TryParse(path["/bytes/".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            return await RespondAsync(stream, $"{method} {target}", 400, "bad length\n", clock, _stopping.Token);
        }

        ulong seed = 1;
        var query = target.Contains('?', StringComparison.Ordinal) ? target[(target.IndexOf('?', StringComparison.Ordinal) + 1)..] : string.Empty;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (pair.StartsWith("seed=", StringComparison.Ordinal) && !ulong.TryParse(pair["seed=".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out seed))
            {
                return await RespondAsync(stream, $"{method} {target}", 400, "bad seed\n", clock, _stopping.Token);
            }
        }

        var head = "HTTP/1.1 200 OK\r\n" +
            "Content-Type: application/octet-stream\r\n" +
            $"Content-Length: {length.ToString(CultureInfo.InvariantCulture)}\r\n" +
            "Connection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), _stopping.Token);
        var sha256 = await TestData.WriteAsync(stream, length, seed, _stopping.Token);
        return new HttpExchange($"{method} {target}", 200, length, sha256, clock.Elapsed);
    }

    private async Task<HttpExchange> ServeSinkAsync(
        Stream stream,
        string method,
        string target,
        Dictionary<string, string> headers,
        ReadOnlyMemory<byte> leftover,
        Stopwatch clock,
        string prefix)
    {
        var request = $"{method} {target}";
        if (headers.TryGetValue("Transfer-Encoding", out var encoding) && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return await RespondAsync(stream, request, 411, "Content-Length required (no chunked bodies)\n", clock, _stopping.Token);
        }

        if (!headers.TryGetValue("Content-Length", out var lengthText)
            || !long.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            return await RespondAsync(stream, request, 411, "Content-Length required\n", clock, _stopping.Token);
        }

        if (headers.TryGetValue("Expect", out var expect) && expect.Equals("100-continue", StringComparison.OrdinalIgnoreCase))
        {
            await stream.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), _stopping.Token);
            await stream.FlushAsync(_stopping.Token);
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var first = leftover.Length > length ? leftover[..(int)length] : leftover;
        hash.AppendData(first.Span);
        var received = (long)first.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(TestData.ChunkSize);
        try
        {
            while (received < length)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - received)), _stopping.Token);
                if (read == 0)
                {
                    Fail($"{prefix} body ended after {received} of {length} bytes");
                    return new HttpExchange(request, 0, received, string.Empty, clock.Elapsed, "body truncated");
                }

                hash.AppendData(buffer, 0, read);
                received += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
        var json = $"{{\"bytes\":{received.ToString(CultureInfo.InvariantCulture)},\"sha256\":\"{sha256}\"}}\n";
        await RespondAsync(stream, request, 200, json, clock, _stopping.Token, "application/json");
        return new HttpExchange(request, 200, received, sha256, clock.Elapsed);
    }

    private static async Task<HttpExchange> RespondAsync(Stream stream, string request, int status, string body, Stopwatch clock, CancellationToken cancellationToken, string contentType = "text/plain")
    {
        var reason = status switch
        {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            411 => "Length Required",
            _ => "Status",
        };
        var bytes = Encoding.UTF8.GetBytes(body);
        var head = $"HTTP/1.1 {status.ToString(CultureInfo.InvariantCulture)} {reason}\r\n" +
            $"Content-Type: {contentType}\r\n" +
            $"Content-Length: {bytes.Length.ToString(CultureInfo.InvariantCulture)}\r\n" +
            "Connection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken);
        await stream.WriteAsync(bytes, cancellationToken);
        await stream.FlushAsync(cancellationToken);
        return new HttpExchange(request, status, 0, string.Empty, clock.Elapsed);
    }

    /// <summary>Reads until the blank line; returns the head's length (without the blank line) and the bytes read, or -1 when the stream ended or the head is too large.</summary>
    private static async Task<(int HeadLength, int Filled)> ReadHeadAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < MaxHeadBytes)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled, MaxHeadBytes - filled), cancellationToken);
            if (read == 0)
            {
                return (-1, filled);
            }

            var searchFrom = Math.Max(0, filled - (HeadEnd.Length - 1));
            filled += read;
            var index = buffer.AsSpan(searchFrom, filled - searchFrom).IndexOf(HeadEnd);
            if (index >= 0)
            {
                return (searchFrom + index, filled);
            }
        }

        return (-1, filled);
    }

    private void Fail(string message)
    {
        _errors.Enqueue(message);
        _log.Write($"[{_name}] ERROR {message}");
    }
}

/// <summary>One request the <see cref="MiniHttpServer"/> handled: status, body bytes sent or received and their SHA-256.</summary>
internal sealed record HttpExchange(string Request, int Status, long BodyBytes, string BodySha256, TimeSpan Elapsed, string? Error = null)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{Request} -> {Status}, body {BodyBytes} bytes{(BodySha256.Length > 0 ? ", sha256 " + BodySha256 : string.Empty)}, {Elapsed.TotalSeconds:0.000} s{(Error is null ? string.Empty : ", " + Error)}";
}
