using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TsNet.Tool.Cli;
using TsNet.Tool.Http;
using TsNet.Tool.Logging;

namespace TsNet.Tool.Commands;

/// <summary>
/// <c>tsnet demo</c>: two nodes in this process with generated keys, talking WireGuard over loopback UDP. Node A
/// serves HTTP on the tailnet; node B fetches a file and uploads to <c>/sink</c> through its own HttpClient; every
/// step is printed, then both nodes' status. Exit 0 when every check passed, 1 otherwise (or on timeout).
/// </summary>
internal sealed class DemoCommand : ICommand
{
    private const string NameA = "node-a";
    private const string NameB = "node-b";
    private const int HttpPort = 80;
    private const string Greeting = "hello from node-a, served over the tailnet";

    // Enough for the handshake and a few round trips on a slow machine; the demo normally takes well under a second.
    private const int DefaultTimeoutSeconds = 30;

    // Big enough to take many TCP segments and windows, small enough to be instant.
    private const int UploadBytes = 1024 * 1024;

    /// <inheritdoc/>
    public CommandSpec Spec { get; } = new(
        "demo",
        "[--timeout SECONDS] [--verbose]",
        "start two nodes in this process and fetch HTTP from one through the other (no configuration needed)",
        [
            new OptionSpec("--timeout", "SECONDS", $"give up after this long (default {DefaultTimeoutSeconds})"),
            new OptionSpec("--verbose", null, "log the nodes' debug messages to stderr"),
        ]);

    /// <inheritdoc/>
    public async Task<int> RunAsync(ParsedArguments args, CliConsole console, CancellationToken cancellationToken)
    {
        var timeoutText = args.Value("--timeout");
        var seconds = DefaultTimeoutSeconds;
        if (timeoutText is not null && (!int.TryParse(timeoutText, NumberStyles.None, CultureInfo.InvariantCulture, out seconds) || seconds < 1))
        {
            throw new UsageException($"--timeout: '{timeoutText}' is not a positive number of seconds");
        }

        using var loggerFactory = new TextWriterLoggerFactory(console.Error, args.Has("--verbose") ? LogLevel.Debug : LogLevel.Warning);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(TimeSpan.FromSeconds(seconds));
        var www = Directory.CreateTempSubdirectory("tsnet-demo-");
        try
        {
            await RunDemoAsync(console.Out, loggerFactory, www.FullName, bound.Token).ConfigureAwait(false);
            await console.Out.WriteLineAsync("demo ok").ConfigureAwait(false);
            await console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return ExitCodes.Success;
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
            var why = cancellationToken.IsCancellationRequested ? "interrupted" : $"timed out after {seconds} s";
            await console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            await console.Error.WriteLineAsync($"tsnet demo: failed: {why}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is DemoFailedException or HttpRequestException or IOException or System.Net.Sockets.SocketException or TimeoutException or JsonException)
        {
            await console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            await console.Error.WriteLineAsync($"tsnet demo: failed: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        finally
        {
            www.Delete(recursive: true);
        }
    }

    private static async Task RunDemoAsync(TextWriter output, ILoggerFactory loggerFactory, string www, CancellationToken cancellationToken)
    {
        async Task Step(string line)
        {
            await output.WriteLineAsync(line).ConfigureAwait(false);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        await Step("tsnet demo: two nodes in this process, WireGuard over loopback UDP, generated keys");
        await File.WriteAllTextAsync(Path.Combine(www, "hello.txt"), Greeting, cancellationToken).ConfigureAwait(false);

        // Steps that do not depend on each other run at once (start-up is mostly waiting: thread starts, the
        // handshake's round trip); their lines still print in order. The upload's random bytes and their hash are
        // made meanwhile.
        var uploadReady = Task.Run(
            () =>
            {
                var bytes = RandomNumberGenerator.GetBytes(UploadBytes);
                return (Bytes: bytes, Sha256: Convert.ToHexStringLower(SHA256.HashData(bytes)));
            },
            cancellationToken);
        await using var a = new TailnetServer(NodeOptions("100.64.0.1", "fd7a:115c:a1e0::1", loggerFactory));
        await using var b = new TailnetServer(NodeOptions("100.64.0.2", "fd7a:115c:a1e0::2", loggerFactory));
        var startB = b.StartAsync(cancellationToken).AsTask();
        await a.StartAsync(cancellationToken).ConfigureAwait(false);
        await Step($"{NameA}: started, tailnet {string.Join(", ", a.Addresses)}, UDP port {a.ListenPort}, public key {a.PublicKey}");
        await startB.ConfigureAwait(false);
        await Step($"{NameB}: started, tailnet {string.Join(", ", b.Addresses)}, UDP port {b.ListenPort}, public key {b.PublicKey}");

        a.AddOrUpdatePeer(PeerOf(b, NameB));
        b.AddOrUpdatePeer(PeerOf(a, NameA));
        await Step($"{NameA} and {NameB}: added each other as peers (endpoints 127.0.0.1:{a.ListenPort} and 127.0.0.1:{b.ListenPort})");

        // B's first ping carries the handshake; node A's HTTP server starts meanwhile.
        var ping = PingUntilUpAsync(b, a.Addresses[0], cancellationToken);
        var serving = TailnetHttpService.StartAsync(a, HttpPort, www, loggerFactory, verbose: false, cancellationToken);
        TimeSpan rtt;
        try
        {
            rtt = await ping.ConfigureAwait(false);
        }
        catch
        {
            await StopWhenStartedAsync(serving).ConfigureAwait(false);
            throw;
        }

        await Step($"{NameB}: ping {a.Addresses[0]}: reply in {rtt.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms (WireGuard handshake done)");
        await using var http = await serving.ConfigureAwait(false);
        await Step($"{NameA}: serving HTTP on the tailnet at http://{a.Addresses[0]}:{HttpPort}/ (hello.txt, PUT /sink)");

        using var client = b.CreateHttpClient();
        var clock = Stopwatch.StartNew();
        using (var response = await client.GetAsync(new Uri($"http://{NameA}/hello.txt"), cancellationToken).ConfigureAwait(false))
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            await Step($"{NameB}: GET http://{NameA}/hello.txt -> {(int)response.StatusCode} {response.ReasonPhrase}, {body.Length} bytes in {Ms(clock)} ms: \"{body}\"");
            Check(response.StatusCode == HttpStatusCode.OK && body == Greeting, $"GET hello.txt returned {(int)response.StatusCode} \"{body}\", expected 200 \"{Greeting}\"");
        }

        var (upload, expectedSha) = await uploadReady.ConfigureAwait(false);
        clock.Restart();
        using (var content = new ByteArrayContent(upload))
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var response = await client.PutAsync(new Uri($"http://{NameA}/sink"), content, cancellationToken).ConfigureAwait(false);
            var json = (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Trim();
            await Step($"{NameB}: PUT http://{NameA}/sink with {UploadBytes} random bytes -> {(int)response.StatusCode} {response.ReasonPhrase} in {Ms(clock)} ms: {json}");
            using var reply = JsonDocument.Parse(json);
            var bytes = reply.RootElement.GetProperty("bytes").GetInt64();
            var sha = reply.RootElement.GetProperty("sha256").GetString();
            Check(response.StatusCode == HttpStatusCode.OK && bytes == UploadBytes && sha == expectedSha, $"the sink saw {bytes} bytes with SHA-256 {sha}, expected {UploadBytes} bytes with {expectedSha}");
            await Step($"{NameB}: the SHA-256 {NameA} computed matches the uploaded bytes");
        }

        var nodes = new[] { (NameA, a.GetStatus()), (NameB, b.GetStatus()) };
        foreach (var (name, status) in nodes)
        {
            var peer = status.Peers.Single();
            Check(peer.SessionState == "established" && peer.RxBytes > 0 && peer.TxBytes > 0, $"{name}'s session is {peer.SessionState} (rx {peer.RxBytes}, tx {peer.TxBytes})");
        }

        await output.WriteLineAsync().ConfigureAwait(false);
        await output.WriteAsync(StatusTable.Nodes(nodes)).ConfigureAwait(false);
        await output.WriteLineAsync().ConfigureAwait(false);
        await output.WriteAsync(StatusTable.Peers(nodes, DateTimeOffset.UtcNow)).ConfigureAwait(false);
        var drops = StatusTable.Drops(nodes);
        if (drops.Length > 0)
        {
            await output.WriteAsync("\ndropped packets:\n" + drops).ConfigureAwait(false);
        }

        await output.WriteLineAsync().ConfigureAwait(false);
    }

    // Peers are applied by the node's loop asynchronously, and the first ping also carries the handshake:
    // retry (bounded by the count and the caller's token).
    private static async Task<TimeSpan> PingUntilUpAsync(TailnetServer from, IPAddress to, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await from.PingAsync(to, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException) when (attempt < 10)
            {
            }
        }
    }

    // A server whose start is abandoned (the demo failed meanwhile) is still stopped once it is up.
    private static async Task StopWhenStartedAsync(Task<TailnetHttpService> serving)
    {
        try
        {
            await (await serving.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException)
        {
            // It never started: nothing to stop; the demo reports its own failure.
        }
    }

    private static TailnetServerOptions NodeOptions(string ipv4, string ipv6, ILoggerFactory loggerFactory) => new()
    {
        PrivateKey = WireGuardKey.Generate(),
        Addresses = { IPNetwork.Parse(ipv4 + "/32"), IPNetwork.Parse(ipv6 + "/128") },
        LoggerFactory = loggerFactory,
    };

    private static TailnetPeer PeerOf(TailnetServer node, string name)
    {
        var peer = new TailnetPeer
        {
            PublicKey = node.PublicKey,
            Endpoint = "127.0.0.1:" + node.ListenPort.ToString(CultureInfo.InvariantCulture),
            Name = name,
        };
        foreach (var address in node.Addresses)
        {
            peer.AllowedIps.Add(new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
        }

        return peer;
    }

    private static void Check(bool condition, string failure)
    {
        if (!condition)
        {
            throw new DemoFailedException(failure);
        }
    }

    private static string Ms(Stopwatch clock) => clock.Elapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture);

    private sealed class DemoFailedException(string message) : Exception(message);
}
