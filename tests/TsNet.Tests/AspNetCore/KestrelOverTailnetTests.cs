using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using TsNet.AspNetCore;
using TsNet.Tests.Facade;

namespace TsNet.Tests.AspNetCore;

/// <summary>Kestrel serving on node A through <c>UseTailnet</c>; node B calls it with <see cref="TailnetServer.CreateHttpClient"/>.</summary>
public sealed class KestrelOverTailnetTests
{
    private static int Scale => TestScale.Factor;

    [Fact]
    public async Task Get_NamesTheCallersOverlayEndpoint_AndReusesTheKeepAliveConnection_WithoutAHostListener()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            var port = TailnetTestApp.PortFreeOnHost();
            var warnings = new WarningRecorder();
            await using var app = TailnetTestApp.Build(builder => builder.WebHost.UseTailnet(a, port), warnings);
            await app.StartAsync(cts.Token);

            // Kestrel reports the tailnet address only, and the host has no TCP listener on the port.
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            addresses.Should().Equal($"http://100.64.0.1:{port}");
            IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpListeners().Should().NotContain(listener => listener.Port == port);

            using var http = b.CreateHttpClient();
            var first = await http.GetStringAsync(new Uri($"http://100.64.0.1:{port}/"), cts.Token);
            var second = await http.GetStringAsync(new Uri($"http://100.64.0.1:{port}/"), cts.Token);

            first.Should().MatchRegex($@"^hello 100\.64\.0\.2:\d+ on 100\.64\.0\.1:{port} connection \S+$");
            second.Should().Be(first, "HTTP/1.1 keep-alive reuses the connection (same remote port and connection id)");

            var overV6 = await http.GetStringAsync(new Uri($"http://[fd7a:115c:a1e0::1]:{port}/"), cts.Token);
            overV6.Should().StartWith("hello fd7a:115c:a1e0::2:").And.Contain($"on fd7a:115c:a1e0::1:{port}");

            await app.StopAsync(cts.Token);
            warnings.Entries.Should().BeEmpty();
        }
    }

    [Fact]
    public async Task PostAndGet_SeveralMebibytes_AreByteExact_AlsoConcurrently()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            const int port = 8080;
            var warnings = new WarningRecorder();
            await using var app = TailnetTestApp.Build(builder => builder.WebHost.UseTailnet(a, port), warnings);
            await app.StartAsync(cts.Token);
            using var http = b.CreateHttpClient();

            var size = 4 * 1024 * 1024 * Scale;
            var upload = TailnetTestApp.Data(size, 7);
            using (var response = await http.PostAsync(new Uri($"http://100.64.0.1:{port}/sha256"), new ByteArrayContent(upload), cts.Token))
            {
                response.EnsureSuccessStatusCode();
                (await response.Content.ReadAsStringAsync(cts.Token)).Should().Be(Digest(upload));
            }

            var download = await http.GetByteArrayAsync(new Uri($"http://100.64.0.1:{port}/data/{size}/8"), cts.Token);
            download.Length.Should().Be(size);
            SHA256.HashData(download).Should().Equal(SHA256.HashData(TailnetTestApp.Data(size, 8)));

            // Concurrent requests: HTTP/1.1 opens a connection per request in flight, each its own tailnet TCP stream.
            var chunk = 512 * 1024 * Scale;
            var requests = Enumerable.Range(0, 6).Select(async i =>
            {
                var body = TailnetTestApp.Data(chunk + i, 100 + i);
                using var response = await http.PostAsync(new Uri($"http://100.64.0.1:{port}/sha256"), new ByteArrayContent(body), cts.Token);
                response.EnsureSuccessStatusCode();
                var digest = await response.Content.ReadAsStringAsync(cts.Token);
                var hello = await http.GetStringAsync(new Uri($"http://100.64.0.1:{port}/"), cts.Token);
                return (Expected: Digest(body), Digest: digest, Hello: hello);
            }).ToList();
            var results = await Task.WhenAll(requests);

            foreach (var (expected, digest, hello) in results)
            {
                digest.Should().Be(expected);
                hello.Should().StartWith("hello 100.64.0.2:");
            }

            await app.StopAsync(cts.Token);
            warnings.Entries.Should().BeEmpty();
        }
    }

    [Fact]
    public async Task AbortInAHandler_ResetsTheCallersConnection_AndTheServerKeepsServing()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            const int port = 8081;
            var warnings = new WarningRecorder();
            await using var app = TailnetTestApp.Build(builder => builder.WebHost.UseTailnet(a, port), warnings);
            await app.StartAsync(cts.Token);
            using var http = b.CreateHttpClient();

            var aborted = async () => await http.GetStringAsync(new Uri($"http://100.64.0.1:{port}/abort"), cts.Token);
            await aborted.Should().ThrowAsync<HttpRequestException>();

            (await http.GetStringAsync(new Uri($"http://100.64.0.1:{port}/"), cts.Token)).Should().StartWith("hello 100.64.0.2:");
            await app.StopAsync(cts.Token);
            warnings.Entries.Should().BeEmpty();
        }
    }

    [Fact]
    public async Task ClientResetDuringAnUpload_ReachesTheHandlerAsConnectionReset_WithoutHostWarnings()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            const int port = 8083;
            var warnings = new WarningRecorder();
            await using var app = TailnetTestApp.Build(builder => builder.WebHost.UseTailnet(a, port), warnings);
            var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var failure = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
            app.MapPost("/slow-upload", async (HttpRequest request) =>
            {
                var buffer = new byte[4096];
                try
                {
                    await request.Body.ReadAtLeastAsync(buffer, 1, throwOnEndOfStream: true, cts.Token);
                    reading.TrySetResult();
                    while (await request.Body.ReadAsync(buffer, cts.Token) > 0)
                    {
                    }

                    failure.TrySetResult(null);
                }
                catch (Exception ex)
                {
                    // Handled here: an exception escaping the handler would be logged as an app error.
                    failure.TrySetResult(ex);
                }
            });
            await app.StartAsync(cts.Token);

            // A raw client: announce a large body, send a little of it, then reset the connection.
            await using var client = await b.ConnectTcpAsync($"100.64.0.1:{port}", cts.Token);
            var head = $"POST /slow-upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n";
            await client.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head), cts.Token);
            await client.WriteAsync(new byte[1000], cts.Token);
            await reading.Task.WaitAsync(cts.Token);
            client.Abort();

            var seen = await failure.Task.WaitAsync(cts.Token);
            seen.Should().BeOfType<ConnectionResetException>("a peer's reset is an ordinary disconnect for the app, as with the socket transport");
            await app.StopAsync(cts.Token);
            warnings.Entries.Should().BeEmpty();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ClientClosingWhileTheHandlerIsNotReading_FiresRequestAborted(bool reset)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            const int port = 8084;
            var warnings = new WarningRecorder();
            await using var app = TailnetTestApp.Build(builder => builder.WebHost.UseTailnet(a, port), warnings);
            var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            app.MapGet("/wait", async (HttpContext context) =>
            {
                // Neither reads the request nor writes: only the connection's closed signal can end this.
                using var registration = context.RequestAborted.Register(() => aborted.TrySetResult());
                waiting.TrySetResult();
                await aborted.Task.WaitAsync(cts.Token);
            });
            await app.StartAsync(cts.Token);

            var client = await b.ConnectTcpAsync($"100.64.0.1:{port}", cts.Token);
            await client.WriteAsync("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), cts.Token);
            await waiting.Task.WaitAsync(cts.Token);
            aborted.Task.IsCompleted.Should().BeFalse("the client has not closed yet");
            if (reset)
            {
                client.Abort();
            }

            await client.DisposeAsync(); // FIN, or nothing more after the reset

            await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10), cts.Token);
            await app.StopAsync(cts.Token);
            warnings.Entries.Should().BeEmpty();
        }
    }

    [Fact]
    public async Task StoppingTheHost_EndsPromptly_ClosesTheTailnetPort_AndLaterRequestsFail()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            const int port = 8082;
            var warnings = new WarningRecorder();
            var app = TailnetTestApp.Build(builder => builder.UseTailnet(a, port), warnings); // the IHostApplicationBuilder overload
            await app.StartAsync(cts.Token);
            using var http = b.CreateHttpClient();
            (await http.GetStringAsync(new Uri($"http://100.64.0.1:{port}/"), cts.Token)).Should().StartWith("hello 100.64.0.2:");

            // The client holds an idle keep-alive connection: a graceful stop closes it rather than waiting it out.
            var stopwatch = Stopwatch.StartNew();
            await app.StopAsync(cts.Token);
            await app.DisposeAsync();
            stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20));
            warnings.Entries.Should().BeEmpty();

            var later = async () => await http.GetStringAsync(new Uri($"http://100.64.0.1:{port}/"), cts.Token);
            await later.Should().ThrowAsync<HttpRequestException>();
            using (var fresh = b.CreateHttpClient())
            {
                var fromFreshClient = async () => await fresh.GetStringAsync(new Uri($"http://100.64.0.1:{port}/"), cts.Token);
                await fromFreshClient.Should().ThrowAsync<HttpRequestException>();
            }

            // The listener was disposed: the port can be listened on again, and the node is still up.
            await using var again = await a.ListenTcpAsync(port, cts.Token);
            again.LocalEndPoint.Should().Be(new IPEndPoint(IPAddress.Parse("100.64.0.1"), port));
        }
    }

    [Fact]
    public async Task Kestrel_StartsAnUnstartedNode_WhenItBinds()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.9/32") },
        });
        await using var app = TailnetTestApp.Build(builder => builder.WebHost.UseTailnet(node, 80));
        await app.StartAsync(cts.Token);

        node.ListenPort.Should().BeGreaterThan(0, "the node's underlay is bound once Kestrel has started it");
        var duplicate = async () => await node.ListenTcpAsync(80, cts.Token);
        await duplicate.Should().ThrowAsync<InvalidOperationException>("Kestrel holds the tailnet port");
        await app.StopAsync(cts.Token);
    }

    [Fact]
    public async Task DisposingTheNodeFirst_LetsTheHostStopCleanly()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.9/32") },
        });
        var warnings = new WarningRecorder();
        await using var app = TailnetTestApp.Build(builder => builder.WebHost.UseTailnet(node, 80), warnings);
        await app.StartAsync(cts.Token);

        await node.DisposeAsync();
        var stop = async () => await app.StopAsync(cts.Token);
        await stop.Should().NotThrowAsync();
        warnings.Entries.Should().BeEmpty();
    }

    [Fact]
    public void UseTailnet_RejectsPortsOutsideTheTcpRange()
    {
        var node = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.9/32") } });
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        var zero = () => builder.WebHost.UseTailnet(node, 0);
        var tooHigh = () => builder.WebHost.UseTailnet(node, 65536);
        zero.Should().Throw<ArgumentOutOfRangeException>();
        tooHigh.Should().Throw<ArgumentOutOfRangeException>();
        new TailnetEndPoint(node, 443).ToString().Should().Be("100.64.0.9:443");
    }

    private static string Digest(byte[] body) =>
        string.Create(CultureInfo.InvariantCulture, $"{body.Length} {Convert.ToHexStringLower(SHA256.HashData(body))}");
}
