using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using TsNet.Tool.Cli;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Tests.Tool;

/// <summary><c>tsnet relay</c> in-process: its line, options, exit codes and the HTTP allocation endpoint.</summary>
public sealed class RelayCommandTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Relay_PrintsItsLine_ServesUdp_AndStopsCleanlyOnCancel()
    {
        await using var relay = await RunningRelay.StartAsync("--port", "0", "--bind", "127.0.0.1");

        relay.Lines.Should().ContainSingle();
        relay.Port.Should().BeGreaterThan(0);
        DiscoKey.Parse(relay.Disco).ToString().Should().Be(relay.Disco);
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            FluentActions.Invoking(() => probe.Bind(new IPEndPoint(IPAddress.Loopback, relay.Port)))
                .Should().Throw<SocketException>("the relay holds its UDP port");
        }

        (await relay.StopAsync()).Should().Be(0);
        relay.Lines.Should().ContainSingle("stopping prints nothing more on stdout");
        relay.Error.Should().Contain("stopped: 0 datagrams");
    }

    [Fact]
    public async Task Allocate_ReturnsServerEndpointJson_WithGoNamesAndEncodings_AndTheSameEndpointOnRepeat()
    {
        await using var relay = await RunningRelay.StartAsync("--port", "0", "--bind", "127.0.0.1", "--allocate", "127.0.0.1:0", "--advertise", "203.0.113.9:41641");
        var a = DiscoKey.Generate().PublicKey;
        var b = DiscoKey.Generate().PublicKey;

        var first = await PostAsync(relay.Allocate!, $"{{\"DiscoKeys\":[\"{a}\",\"{b}\"]}}");
        first.Status.Should().Be(200, first.Body);
        first.Headers["content-type"].Should().Be("application/json");
        first.Headers["connection"].Should().Be("close");
        first.Body.Should().EndWith("}\n");
        using var json = JsonDocument.Parse(first.Body);
        var root = json.RootElement;
        root.EnumerateObject().Select(p => p.Name).Should().Equal("ServerDisco", "ClientDisco", "LamportID", "AddrPorts", "VNI", "BindLifetime", "SteadyStateLifetime");
        root.GetProperty("ServerDisco").GetString().Should().Be(relay.Disco);
        var sorted = a < b ? new[] { a, b } : [b, a];
        root.GetProperty("ClientDisco").EnumerateArray().Select(k => k.GetString()).Should().Equal(sorted.Select(k => k.ToString()));
        root.GetProperty("LamportID").GetUInt64().Should().Be(1);
        root.GetProperty("VNI").GetUInt32().Should().Be(1);
        root.GetProperty("AddrPorts").EnumerateArray().Select(e => e.GetString()).Should().Equal("203.0.113.9:41641", $"127.0.0.1:{relay.Port}");
        root.GetProperty("BindLifetime").GetString().Should().Be("30s");
        root.GetProperty("SteadyStateLifetime").GetString().Should().Be("5m0s");

        // The pair in the other order (and field names in another case, as Go's decoder allows) gets the same endpoint.
        var again = await PostAsync(relay.Allocate!, $"{{\"discokeys\":[\"{b}\",\"{a}\"],\"Extra\":1}}");
        again.Status.Should().Be(200, again.Body);
        again.Body.Should().Be(first.Body);

        var other = await PostAsync(relay.Allocate!, $"{{\"DiscoKeys\":[\"{a}\",\"{DiscoKey.Generate().PublicKey}\"]}}");
        using var otherJson = JsonDocument.Parse(other.Body);
        otherJson.RootElement.GetProperty("LamportID").GetUInt64().Should().Be(2);
        otherJson.RootElement.GetProperty("VNI").GetUInt32().Should().Be(2);
    }

    public static TheoryData<string, int> BadRequests()
    {
        var a = DiscoKey.Generate().PublicKey.ToString();
        var b = DiscoKey.Generate().PublicKey.ToString();
        string Post(string body) => $"POST /v0/relay/endpoint HTTP/1.1\r\nHost: x\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";
        var big = $"{{\"DiscoKeys\":[\"{a}\",\"{b}\"],\"Pad\":\"{new string('x', 400)}\"}}";
        return new TheoryData<string, int>
        {
            { "GET /v0/relay/endpoint HTTP/1.1\r\nHost: x\r\n\r\n", 405 },
            { "PUT /v0/relay/endpoint HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 405 },
            { Post($"{{\"DiscoKeys\":[\"{a}\",\"{b}\"]}}").Replace("/v0/relay/endpoint", "/v0/relay/other", StringComparison.Ordinal), 404 },
            { "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 404 },
            { Post("{\"DiscoKeys\":["), 400 },
            { Post("not json"), 400 },
            { Post(string.Empty), 400 },
            { Post("[]"), 400 },
            { Post($"{{\"DiscoKeys\":[\"{a}\"]}}"), 400 },
            { Post($"{{\"DiscoKeys\":[\"{a}\",\"{b}\",\"{a}\"]}}"), 400 },
            { Post($"{{\"DiscoKeys\":[\"{a}\",\"{a}\"]}}"), 400 },
            { Post($"{{\"DiscoKeys\":[\"{a}\",\"{b[9..]}\"]}}"), 400 },
            { Post($"{{\"DiscoKeys\":[\"{a}\",\"{b[..^2]}\"]}}"), 400 },
            { Post($"{{\"DiscoKeys\":[\"{a}\",\"discokey:{new string('0', 64)}\"]}}"), 400 },
            { Post($"{{\"DiscoKeys\":[\"{a}\",42]}}"), 400 },
            { Post(big), 413 },
            { $"POST /v0/relay/endpoint HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{Encoding.UTF8.GetByteCount(big):x}\r\n{big}\r\n0\r\n\r\n", 413 },
            { "POST /v0/relay/endpoint HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n", 413 },
            { "BROKEN\r\n\r\n", 400 },
        };
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Allocate_BadRequests_GetTheirStatus_AndAllocateNothing(string request, int status)
    {
        await using var relay = await RunningRelay.StartAsync("--port", "0", "--bind", "127.0.0.1", "--allocate", "127.0.0.1:0");

        var response = await ExchangeAsync(relay.Allocate!, Encoding.UTF8.GetBytes(request));

        response.Status.Should().Be(status, response.Body);
        response.Headers["connection"].Should().Be("close");
        response.Headers["content-length"].Should().Be(Encoding.UTF8.GetByteCount(response.Body).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (status == 405)
        {
            response.Headers["allow"].Should().Be("POST");
        }

        // The endpoint still works afterwards, and the first real allocation is the first one.
        var ok = await PostAsync(relay.Allocate!, $"{{\"DiscoKeys\":[\"{DiscoKey.Generate().PublicKey}\",\"{DiscoKey.Generate().PublicKey}\"]}}");
        ok.Status.Should().Be(200);
        using var json = JsonDocument.Parse(ok.Body);
        json.RootElement.GetProperty("LamportID").GetUInt64().Should().Be(1);
    }

    [Fact]
    public async Task Stop_WithAStalledAllocationClient_ExitsWithoutWaitingForItsTimeout()
    {
        var relay = await RunningRelay.StartAsync("--port", "0", "--bind", "127.0.0.1", "--allocate", "127.0.0.1:0");
        await using (relay)
        {
            using var stalled = new TcpClient();
            await stalled.ConnectAsync(relay.Allocate!);
            await stalled.GetStream().WriteAsync(Encoding.ASCII.GetBytes("POST /v0/relay/endpoint HTTP/1.1\r\nHost: x\r\n"));

            var clock = System.Diagnostics.Stopwatch.StartNew();
            (await relay.StopAsync()).Should().Be(0);
            clock.Elapsed.Should().BeLessThan(TsNet.Tool.RelayApi.RelayAllocationServer.RequestTimeout, "stopping cancels open exchanges");

            // The server closed the stalled connection without answering it: end of stream, or a reset when the
            // server had not yet read the partial head when it closed.
            var buffer = new byte[100];
            using var timeout = new CancellationTokenSource(Deadline);
            int read;
            try
            {
                read = await stalled.GetStream().ReadAsync(buffer, timeout.Token);
            }
            catch (IOException)
            {
                read = 0;
            }

            read.Should().Be(0);
        }
    }

    [Fact]
    public async Task Allocate_RelayWithoutCandidateAddresses_Answers503WithRetryAfter()
    {
        var options = new UdpRelayServerOptions { BindAddresses = { IPAddress.Loopback }, AdvertiseLocalAddresses = false };
        await using var server = await UdpRelayServer.StartAsync(options);
        var handler = new TsNet.Tool.RelayApi.RelayAllocationHandler(server, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        var response = handler.Allocate(Encoding.UTF8.GetBytes($"{{\"DiscoKeys\":[\"{DiscoKey.Generate().PublicKey}\",\"{DiscoKey.Generate().PublicKey}\"]}}"));

        response.StatusCode.Should().Be(503);
        response.Headers.Should().ContainSingle().Which.Should().Be(new KeyValuePair<string, string>("Retry-After", "3"));
        server.EndpointCount.Should().Be(0);
    }

    [Theory]
    [InlineData("--allocate", "0.0.0.0:9000")]
    [InlineData("--allocate", "192.0.2.1:9000")]
    [InlineData("--allocate", "[::]:9000")]
    [InlineData("--allocate", "localhost:9000")]
    [InlineData("--allocate", "127.0.0.1")]
    [InlineData("--allocate", "::1")]
    [InlineData("--advertise", "203.0.113.1")]
    [InlineData("--advertise", "203.0.113.1:0")]
    [InlineData("--bind", "not-an-address")]
    [InlineData("--port", "70000")]
    [InlineData("--port", "-1")]
    [InlineData("--bogus", "1")]
    public async Task BadOptions_Exit2WithUsage(string option, string value)
    {
        var args = option == "--port" ? new[] { "relay", option, value } : ["relay", "--port", "0", option, value];

        var (exitCode, stdout, stderr) = await RunToEndAsync(args);

        exitCode.Should().Be(2);
        stdout.Should().BeEmpty();
        stderr.Should().Contain("usage: tsnet relay");
    }

    [Fact]
    public async Task MissingPort_Exit2()
    {
        var (exitCode, _, stderr) = await RunToEndAsync("relay", "--allocate", "127.0.0.1:0");

        exitCode.Should().Be(2);
        stderr.Should().Contain("--port P is required");
    }

    [Fact]
    public async Task UdpPortBusy_Exit1()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        var (exitCode, stdout, stderr) = await RunToEndAsync("relay", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1");

        exitCode.Should().Be(1);
        stdout.Should().BeEmpty();
        stderr.Should().Contain($"tsnet relay: failed binding UDP port {port}");
    }

    [Fact]
    public async Task AllocatePortBusy_Exit1()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (exitCode, stdout, stderr) = await RunToEndAsync("relay", "--port", "0", "--bind", "127.0.0.1", "--allocate", $"127.0.0.1:{port}");

        exitCode.Should().Be(1);
        stdout.Should().BeEmpty();
        stderr.Should().Contain($"tsnet relay: failed listening on --allocate 127.0.0.1:{port}");
    }

    [Fact]
    public async Task TwoClients_AllocateOverHttp_BindWithTheHandshake_AndExchangeDatagramsThroughTheRelay()
    {
        await using var relay = await RunningRelay.StartAsync("--port", "0", "--bind", "127.0.0.1", "--allocate", "127.0.0.1:0");
        using var a = new RelayClient();
        using var b = new RelayClient();

        // Each client asks for the pair in its own order; both learn the same endpoint.
        var forA = await PostAsync(relay.Allocate!, $"{{\"DiscoKeys\":[\"{a.Key.PublicKey}\",\"{b.Key.PublicKey}\"]}}");
        var forB = await PostAsync(relay.Allocate!, $"{{\"DiscoKeys\":[\"{b.Key.PublicKey}\",\"{a.Key.PublicKey}\"]}}");
        forA.Status.Should().Be(200, forA.Body);
        forB.Body.Should().Be(forA.Body);
        using var json = JsonDocument.Parse(forA.Body);
        var server = DiscoKey.Parse(json.RootElement.GetProperty("ServerDisco").GetString()!);
        var vni = json.RootElement.GetProperty("VNI").GetUInt32();
        var candidates = json.RootElement.GetProperty("AddrPorts").EnumerateArray().Select(e => IPEndPoint.Parse(e.GetString()!)).ToArray();
        candidates.Should().Equal(new IPEndPoint(IPAddress.Loopback, relay.Port));

        var handshakeA = await a.BindAsync(server, b.Key.PublicKey, vni, candidates);
        var handshakeB = await b.BindAsync(server, a.Key.PublicKey, vni, candidates);
        handshakeA.ServerAddress.Should().Be(UnderlayAddress.FromIPEndPoint(candidates[0]));

        // Both Answers were sent before this data (same host, one relay socket): the relay has bound both legs.
        var payload = Encoding.UTF8.GetBytes("through the relay");
        var datagram = new byte[GeneveHeader.Length + payload.Length];
        handshakeA.WrapWireGuard(payload, datagram);
        a.Socket.SendTo(datagram, candidates[0]);
        var (atB, fromRelay) = await b.ReceiveAsync();
        atB.Should().Equal(datagram, "the relay forwards byte for byte, Geneve header included");
        fromRelay.Should().Be(candidates[0]);

        handshakeB.WrapWireGuard(payload.Reverse().ToArray(), datagram);
        b.Socket.SendTo(datagram, candidates[0]);
        (await a.ReceiveAsync()).Bytes.Should().Equal(datagram);

        (await relay.StopAsync()).Should().Be(0);
        relay.Error.Should().Contain("stopped: 2 datagrams").And.Contain("2 legs bound");
    }

    private static async Task<(int ExitCode, string Out, string Error)> RunToEndAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exitCode = await TsNetCli.RunAsync(args, new CliConsole(new StringReader(string.Empty), stdout, stderr), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    private static Task<HttpAnswer> PostAsync(IPEndPoint endPoint, string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var head = $"POST /v0/relay/endpoint HTTP/1.1\r\nHost: {endPoint}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n";
        return ExchangeAsync(endPoint, [.. Encoding.ASCII.GetBytes(head), .. body]);
    }

    // One request on a fresh connection; reads the response until the server closes (it always does).
    private static async Task<HttpAnswer> ExchangeAsync(IPEndPoint endPoint, byte[] request)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        using var client = new TcpClient();
        await client.ConnectAsync(endPoint, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(request, timeout.Token);
        var received = new MemoryStream();
        await stream.CopyToAsync(received, timeout.Token);
        var text = Encoding.UTF8.GetString(received.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        split.Should().BeGreaterThan(0, "a complete response head arrives: " + text);
        var headLines = text[..split].Split("\r\n");
        var status = int.Parse(headLines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        headLines[0].Should().StartWith("HTTP/1.1 ");
        var headers = headLines.Skip(1).Select(l => l.Split(": ", 2)).ToDictionary(p => p[0].ToLowerInvariant(), p => p[1]);
        return new HttpAnswer(status, headers, text[(split + 4)..]);
    }

    private sealed record HttpAnswer(int Status, Dictionary<string, string> Headers, string Body);

    /// <summary>A relay client on a loopback UDP socket running the sans-IO <see cref="RelayHandshakeClient"/>.</summary>
    private sealed class RelayClient : IDisposable
    {
        public RelayClient() => Socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        public DiscoKey Key { get; } = DiscoKey.Generate();

        public Socket Socket { get; } = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

        public async Task<RelayHandshakeClient> BindAsync(DiscoKey server, DiscoKey remote, uint vni, IReadOnlyList<IPEndPoint> candidates)
        {
            var handshake = new RelayHandshakeClient(Key.Bytes, server, remote, vni, generation: 1);
            var bind = new byte[RelayHandshakeClient.HandshakeDatagramLength];
            foreach (var candidate in candidates)
            {
                Socket.SendTo(bind.AsSpan(0, handshake.WriteBind(bind)), candidate);
            }

            var (challenge, from) = await ReceiveAsync();
            var answer = new byte[RelayHandshakeClient.HandshakeDatagramLength];
            var length = handshake.HandleChallenge(challenge, UnderlayAddress.FromIPEndPoint(from), answer);
            length.Should().BeGreaterThan(0, "the relay answers a Bind with a Challenge sealed to this client");
            Socket.SendTo(answer.AsSpan(0, length), from);
            return handshake;
        }

        public async Task<(byte[] Bytes, IPEndPoint From)> ReceiveAsync()
        {
            var buffer = new byte[2048];
            using var timeout = new CancellationTokenSource(Deadline);
            var result = await Socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
            return (buffer.AsSpan(0, result.ReceivedBytes).ToArray(), (IPEndPoint)result.RemoteEndPoint);
        }

        public void Dispose() => Socket.Dispose();
    }
}
