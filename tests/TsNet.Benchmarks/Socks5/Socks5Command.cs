using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TsNet.Benchmarks.Socks5;

/// <summary>
/// <c>TsNet.Benchmarks socks5 [--bytes N] [--rounds R] [--connections C] [--parallel P]</c>: two nodes in one process
/// over loopback UDP; node B serves HTTP (<c>GET /bytes/N</c>), node A runs the loopback SOCKS5 proxy. Measures, in the
/// same run and interleaved round by round:
/// <list type="bullet">
/// <item>one-stream download of N bytes with the same in-process HTTP client, directly over
/// <see cref="TailnetServer.ConnectTcpAsync(string, CancellationToken)"/> and through the proxy (a host loopback socket);</item>
/// <item>the same download by <c>curl --socks5-hostname</c> through the proxy (when curl is installed);</item>
/// <item>connections per second through the proxy (greeting, auth, CONNECT, one request and answer, close), sequential
/// and P in parallel, next to the same without the proxy.</item>
/// </list>
/// Prints medians and the proxy/direct ratios.
/// </summary>
internal static class Socks5Command
{
    private const int HttpPort = 8080;
    private const int ChunkBytes = 64 * 1024;

    public static async Task<int> RunAsync(string[] args)
    {
        long bytes = 128L * 1024 * 1024;
        var rounds = 3;
        var connections = 300;
        var parallel = 8;
        for (var i = 0; i < args.Length - 1; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--bytes": bytes = long.Parse(value, CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--connections": connections = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--parallel": parallel = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }

        await using var a = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.1/32") } });
        await using var b = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.2/32") } });
        await a.StartAsync();
        await b.StartAsync();
        a.AddOrUpdatePeer(new TailnetPeer { PublicKey = b.PublicKey, Endpoint = "127.0.0.1:" + b.ListenPort, AllowedIps = { IPNetwork.Parse("100.64.0.2/32") }, Name = "bee" });
        b.AddOrUpdatePeer(new TailnetPeer { PublicKey = a.PublicKey, Endpoint = "127.0.0.1:" + a.ListenPort, AllowedIps = { IPNetwork.Parse("100.64.0.1/32") } });
        for (var i = 0; ; i++)
        {
            try
            {
                await a.PingAsync(IPAddress.Parse("100.64.0.2"), TimeSpan.FromSeconds(1));
                break;
            }
            catch (TimeoutException) when (i < 10)
            {
            }
        }

        await using var listener = await b.ListenTcpAsync(HttpPort);
        using var stop = new CancellationTokenSource();
        var server = ServeAsync(listener, stop.Token);
        await using var proxy = await a.StartLoopbackProxyAsync(new LoopbackProxyOptions { MaxConnections = Math.Max(256, parallel * 2) });
        var target = "100.64.0.2:" + HttpPort.ToString(CultureInfo.InvariantCulture);
        var curl = FindCurl();

        var direct = new List<double>();
        var proxied = new List<double>();
        var curled = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            direct.Add(await TimeDownloadAsync(async () => await a.ConnectTcpAsync(target), bytes));
            proxied.Add(await TimeDownloadAsync(async () => await ConnectThroughProxyAsync(proxy), bytes));
            if (curl is not null)
            {
                curled.Add(await CurlDownloadAsync(curl, proxy, bytes));
            }
        }

        var line = new StringBuilder();
        var directMbps = Median(direct);
        line.Append(CultureInfo.InvariantCulture, $"socks5 download {bytes / (1024 * 1024)} MiB, median of {rounds}: direct {directMbps:0} Mbit/s, ");
        line.Append(CultureInfo.InvariantCulture, $"via proxy {Median(proxied):0} Mbit/s (ratio {Median(proxied) / directMbps:0.00})");
        if (curl is not null)
        {
            line.Append(CultureInfo.InvariantCulture, $", curl via proxy {Median(curled):0} Mbit/s (ratio {Median(curled) / directMbps:0.00})");
        }

        Console.WriteLine(line.ToString());

        var directSequential = await ConnectionsPerSecondAsync(connections, 1, () => OpenDirectAsync(a, target));
        var proxySequential = await ConnectionsPerSecondAsync(connections, 1, () => OpenProxiedAsync(proxy));
        var directParallel = await ConnectionsPerSecondAsync(connections, parallel, () => OpenDirectAsync(a, target));
        var proxyParallel = await ConnectionsPerSecondAsync(connections, parallel, () => OpenProxiedAsync(proxy));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"socks5 connections/s ({connections} each, connect + 1 request + close): sequential direct {directSequential:0}, via proxy {proxySequential:0} (ratio {proxySequential / directSequential:0.00}); " +
            $"{parallel} in parallel direct {directParallel:0}, via proxy {proxyParallel:0} (ratio {proxyParallel / directParallel:0.00})"));
        Console.WriteLine($"({Environment.ProcessorCount} CPUs, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}, curl {(curl is null ? "not found" : curl)})");

        await stop.CancelAsync();
        await server;
        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    private static string? FindCurl() =>
        new[] { "/usr/bin/curl", "/usr/local/bin/curl", "/bin/curl" }.FirstOrDefault(File.Exists);

    /// <summary>GET /bytes/N over a fresh stream; returns Mbit/s of the body.</summary>
    private static async Task<double> TimeDownloadAsync(Func<Task<Stream>> open, long bytes)
    {
        var watch = Stopwatch.StartNew();
        await using var stream = await open();
        var received = await GetAsync(stream, "/bytes/" + bytes.ToString(CultureInfo.InvariantCulture));
        var seconds = watch.Elapsed.TotalSeconds;
        if (received != bytes)
        {
            throw new InvalidOperationException($"downloaded {received} of {bytes} bytes");
        }

        return bytes * 8 / seconds / 1e6;
    }

    private static async Task<double> CurlDownloadAsync(string curl, LoopbackProxy proxy, long bytes)
    {
        var start = new ProcessStartInfo(curl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[]
        {
            "-sS", "--max-time", "300", "-o", "/dev/null", "-w", "%{size_download} %{speed_download}",
            "--socks5-hostname", proxy.EndPoint.ToString(), "--proxy-user", proxy.Username + ":" + proxy.Password,
            $"http://bee:{HttpPort}/bytes/{bytes}",
        })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("curl did not start");
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var fields = output.Split(' ');
        if (process.ExitCode != 0 || fields.Length != 2 || long.Parse(fields[0], CultureInfo.InvariantCulture) != bytes)
        {
            throw new InvalidOperationException($"curl failed ({process.ExitCode}): {output} {errors}");
        }

        return double.Parse(fields[1], CultureInfo.InvariantCulture) * 8 / 1e6;
    }

    private static async Task<double> ConnectionsPerSecondAsync(int count, int parallel, Func<Task> openOne)
    {
        var watch = Stopwatch.StartNew();
        var next = 0;
        var workers = Enumerable.Range(0, parallel).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                await openOne();
            }
        });
        await Task.WhenAll(workers);
        return count / watch.Elapsed.TotalSeconds;
    }

    private static async Task OpenDirectAsync(TailnetServer node, string target)
    {
        await using var stream = await node.ConnectTcpAsync(target);
        await GetAsync(stream, "/bytes/1");
    }

    private static async Task OpenProxiedAsync(LoopbackProxy proxy)
    {
        await using var stream = await ConnectThroughProxyAsync(proxy);
        await GetAsync(stream, "/bytes/1");
    }

    /// <summary>Greeting, auth and CONNECT to 100.64.0.2:8080, each answer checked; returns the spliced stream.</summary>
    private static async Task<Stream> ConnectThroughProxyAsync(LoopbackProxy proxy)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(proxy.EndPoint);
        var stream = new NetworkStream(socket, ownsSocket: true);
        var user = Encoding.ASCII.GetBytes(proxy.Username);
        var pass = Encoding.ASCII.GetBytes(proxy.Password);
        byte[] hello = [0x05, 0x01, 0x02, 0x01, (byte)user.Length, .. user, (byte)pass.Length, .. pass, 0x05, 0x01, 0x00, 0x01, 100, 64, 0, 2, HttpPort >> 8, HttpPort & 0xFF];
        await stream.WriteAsync(hello);
        var answer = new byte[2 + 2 + 10];
        await stream.ReadExactlyAsync(answer);
        if (answer[1] != 0x02 || answer[3] != 0x00 || answer[5] != 0x00)
        {
            await stream.DisposeAsync();
            throw new InvalidOperationException("proxy refused: " + Convert.ToHexString(answer));
        }

        return stream;
    }

    /// <summary>Sends a GET, skips the response head, counts the body until the server closes.</summary>
    private static async Task<long> GetAsync(Stream stream, string path)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: bee\r\nConnection: close\r\n\r\n"));
        var buffer = new byte[ChunkBytes];
        long body = 0;
        var headEnd = -1;
        var head = new List<byte>();
        while (true)
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
            {
                return body;
            }

            if (headEnd >= 0)
            {
                body += read;
                continue;
            }

            head.AddRange(buffer.AsSpan(0, read).ToArray());
            var text = Encoding.ASCII.GetString(head.ToArray());
            headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (headEnd >= 0)
            {
                body = head.Count - (headEnd + 4);
            }
        }
    }

    private static async Task ServeAsync(TailnetListener listener, CancellationToken cancellationToken)
    {
        var running = new List<Task>();
        try
        {
            while (await listener.AcceptAsync(cancellationToken) is { } connection)
            {
                running.RemoveAll(t => t.IsCompleted);
                running.Add(RespondAsync(connection, cancellationToken));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(running);
    }

    private static async Task RespondAsync(TailnetConnection connection, CancellationToken cancellationToken)
    {
        await using (connection)
        {
            try
            {
                var request = new StringBuilder();
                var buffer = new byte[1024];
                while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var n = await connection.ReadAsync(buffer, cancellationToken);
                    if (n == 0)
                    {
                        return;
                    }

                    request.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }

                var length = long.Parse(request.ToString().Split(' ')[1]["/bytes/".Length..], CultureInfo.InvariantCulture);
                await connection.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"), cancellationToken);
                var chunk = new byte[ChunkBytes];
                BinaryPrimitives.WriteInt64LittleEndian(chunk, length);
                for (var sent = 0L; sent < length;)
                {
                    var n = (int)Math.Min(chunk.Length, length - sent);
                    await connection.WriteAsync(chunk.AsMemory(0, n), cancellationToken);
                    sent += n;
                }

                await connection.ShutdownWriteAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or InvalidOperationException)
            {
            }
        }
    }
}
