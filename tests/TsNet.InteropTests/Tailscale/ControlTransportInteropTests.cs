using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TsNet.Control.Transport;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// The control transport against Tailscale's own <c>testcontrol-server</c> (v1.36.2, see
/// <c>shared/tailscale/README.md</c>): <c>/key</c>, the ts2021 handshake, HTTP/2 over Noise and a register.
/// Needs no root; only the binaries next to the repository (the Tailscale harness starts and stops the server).
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", TailscaleFactAttribute.Category)]
public sealed class ControlTransportInteropTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly TestLog _log = new(output);

    [TailscaleFact]
    public async Task KeyHandshakeAndRegister_OverHttp2_Authorizes()
    {
        await using var control = await ControlServer.StartAsync(_log);
        using var cts = new CancellationTokenSource(Bound);
        using var http = new HttpClient();

        var keys = await ControlKeyClient.FetchAsync(http, control.Url, 115, cts.Token);
        keys.LegacyPublicKey.IsZero.Should().BeFalse("this older server always sends its legacy key");
        var machineKey = MachinePrivateKey.Generate();
        var timer = Stopwatch.StartNew();
        await using var connection = await ControlConnection.ConnectAsync(Options(control, machineKey, keys.PublicKey), cts.Token);
        var handshake = timer.Elapsed;
        using var response = await connection.SendAsync(RegisterRequest(115, "authkey-1"), cancellationToken: cts.Token);
        var firstResponse = timer.Elapsed;
        string body = await response.Content.ReadAsStringAsync(cts.Token);
        _log.Write($"handshake {handshake.TotalMilliseconds:F1} ms, first HTTP/2 response {firstResponse.TotalMilliseconds:F1} ms; register: {body}");

        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        response.Version.Should().Be(HttpVersion.Version20);
        using var json = JsonDocument.Parse(body);
        json.RootElement.GetProperty("MachineAuthorized").GetBoolean().Should().BeTrue(body);
        json.RootElement.GetProperty("User").ValueKind.Should().Be(JsonValueKind.Object, body);
        json.RootElement.GetProperty("User").GetProperty("ID").GetInt64().Should().BePositive();
        connection.ServerPublicKey.Should().Be(keys.PublicKey);
        (await connection.GetEarlyPayloadAsync(cts.Token)).Should().BeNull("the test server sends no early payload");
        connection.Connections.Should().Be(1);
        control.Complete();
    }

    [TailscaleFact]
    public async Task HandshakeAndFirstResponse_Latency()
    {
        const int Rounds = 20;
        await using var control = await ControlServer.StartAsync(_log);
        using var cts = new CancellationTokenSource(Bound);
        using var http = new HttpClient();
        var keys = await ControlKeyClient.FetchAsync(http, control.Url, 115, cts.Token);
        var machineKey = MachinePrivateKey.Generate();
        var handshakes = new List<double>();
        var firstResponses = new List<double>();

        // Round 0 warms up (JIT); the figures are rounds 1..N, each a new TCP connection, upgrade and handshake.
        for (int round = 0; round <= Rounds; round++)
        {
            var timer = Stopwatch.StartNew();
            await using var connection = await ControlConnection.ConnectAsync(Options(control, machineKey, keys.PublicKey), cts.Token);
            double handshake = timer.Elapsed.TotalMilliseconds;
            using var response = await connection.SendAsync(RegisterRequest(115, "authkey-latency"), cancellationToken: cts.Token);
            await response.Content.ReadAsByteArrayAsync(cts.Token);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            if (round > 0)
            {
                handshakes.Add(handshake);
                firstResponses.Add(timer.Elapsed.TotalMilliseconds);
            }
        }

        handshakes.Sort();
        firstResponses.Sort();
        _log.Write($"over {Rounds} connections: handshake median {handshakes[Rounds / 2]:F2} ms (max {handshakes[^1]:F2}), " +
            $"handshake + first HTTP/2 register response median {firstResponses[Rounds / 2]:F2} ms (max {firstResponses[^1]:F2})");
        control.Complete();
    }

    [TailscaleFact]
    public async Task ConcurrentRequests_ShareOneHandshake()
    {
        await using var control = await ControlServer.StartAsync(_log);
        using var cts = new CancellationTokenSource(Bound);
        using var http = new HttpClient();
        var keys = await ControlKeyClient.FetchAsync(http, control.Url, 130, cts.Token);
        await using var connection = await ControlConnection.ConnectAsync(Options(control, MachinePrivateKey.Generate(), keys.PublicKey, 130), cts.Token);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 4).Select(async i =>
        {
            using var response = await connection.SendAsync(RegisterRequest(130, "authkey-" + i), cancellationToken: cts.Token);
            return response.StatusCode;
        }));

        statuses.Should().AllBeEquivalentTo(HttpStatusCode.OK);
        connection.Connections.Should().Be(1);
        control.Complete();
    }

    [TailscaleFact]
    public async Task MapStream_StaysOpen_WhileOtherRequestsShareTheConnection()
    {
        await using var control = await ControlServer.StartAsync(_log);
        using var cts = new CancellationTokenSource(Bound);
        using var http = new HttpClient();
        var keys = await ControlKeyClient.FetchAsync(http, control.Url, 115, cts.Token);
        await using var connection = await ControlConnection.ConnectAsync(Options(control, MachinePrivateKey.Generate(), keys.PublicKey), cts.Token);
        string nodeKey = NewNodeKey();
        using (var registered = await connection.SendAsync(RegisterRequest(115, "authkey-map", nodeKey), cancellationToken: cts.Token))
        {
            registered.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        // Doc §9.1/§9.2: the long poll, uncompressed: uint32 LE length, then MapResponse JSON, repeated.
        string discoKey = "discokey:" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        string mapJson = $$$"""{"Version":115,"NodeKey":"{{{nodeKey}}}","DiscoKey":"{{{discoKey}}}","Stream":true,"KeepAlive":true,"Hostinfo":{"Hostname":"tsnet-transport-test","OS":"linux"}}""";
        using var mapRequest = new HttpRequestMessage(HttpMethod.Post, "/machine/map") { Content = new StringContent(mapJson, Encoding.UTF8, "application/json") };
        using var map = await connection.SendAsync(mapRequest, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        map.StatusCode.Should().Be(HttpStatusCode.OK);
        await using var body = await map.Content.ReadAsStreamAsync(cts.Token);
        byte[] lengthBytes = new byte[4];
        await body.ReadExactlyAsync(lengthBytes, cts.Token);
        int length = BitConverter.ToInt32(lengthBytes);
        length.Should().BeInRange(1, 1 << 20);
        byte[] first = new byte[length];
        await body.ReadExactlyAsync(first, cts.Token);
        using (var firstMap = JsonDocument.Parse(first))
        {
            firstMap.RootElement.GetProperty("Node").GetProperty("Key").GetString().Should().Be(nodeKey);
        }

        // The stream is still open; a second request multiplexes next to it on the same Noise connection.
        using var other = await connection.SendAsync(RegisterRequest(115, "authkey-map", nodeKey), cancellationToken: cts.Token);

        other.StatusCode.Should().Be(HttpStatusCode.OK);
        connection.Connections.Should().Be(1);
        control.Complete();
    }

    [TailscaleFact]
    public async Task MalformedRegister_Answers400()
    {
        await using var control = await ControlServer.StartAsync(_log);
        using var cts = new CancellationTokenSource(Bound);
        using var http = new HttpClient();
        var keys = await ControlKeyClient.FetchAsync(http, control.Url, 115, cts.Token);
        await using var connection = await ControlConnection.ConnectAsync(Options(control, MachinePrivateKey.Generate(), keys.PublicKey), cts.Token);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/machine/register") { Content = new StringContent("{\"Version\":0}") };
        using var response = await connection.SendAsync(request, cancellationToken: cts.Token);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        control.Complete();
    }

    [TailscaleFact]
    public async Task WrongServerKey_IsACleanProtocolError()
    {
        await using var control = await ControlServer.StartAsync(_log);
        using var cts = new CancellationTokenSource(Bound);

        // The server cannot open the initiation: it answers 101, then closes (README "Observed on the wire").
        await FluentActions.Invoking(() => ControlConnection.ConnectAsync(Options(control, MachinePrivateKey.Generate(), MachinePrivateKey.Generate().PublicKey), cts.Token))
            .Should().ThrowAsync<ControlTransportException>().WithMessage("*without a handshake response*");
        control.Complete();
    }

    [TailscaleFact]
    public async Task TruncatedInitiation_IsACleanProtocolError()
    {
        await using var control = await ControlServer.StartAsync(_log);
        using var cts = new CancellationTokenSource(Bound);
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, control.Url.Port, cts.Token);
        var stream = socket.GetStream();

        await stream.WriteAsync(ControlUpgrade.BuildRequest($"127.0.0.1:{control.Url.Port}", RandomNumberGenerator.GetBytes(50)), cts.Token);
        var reader = new PrefixReader(stream);
        await ControlUpgrade.ReadResponseAsync(reader, cts.Token);

        (await reader.ReadExactlyAsync(ControlNoise.HeaderSize, cts.Token)).Should().BeNull("a bad initiation gets 101 and then EOF");
        control.Complete();
    }

    [TailscaleFact]
    public async Task UpgradeWithoutHandshakeHeader_IsRefusedWith400()
    {
        await using var control = await ControlServer.StartAsync(_log);
        using var cts = new CancellationTokenSource(Bound);
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, control.Url.Port, cts.Token);
        var stream = socket.GetStream();
        string request = $"POST /ts2021 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: {ControlUpgrade.UpgradeProtocol}\r\nConnection: upgrade\r\n{ControlUpgrade.HandshakeHeader}: !!!\r\nContent-Length: 0\r\n\r\n";

        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cts.Token);

        await FluentActions.Invoking(() => ControlUpgrade.ReadResponseAsync(new PrefixReader(stream), cts.Token).AsTask())
            .Should().ThrowAsync<ControlTransportException>().WithMessage("*HTTP 400*");
        control.Complete();
    }

    private static ControlConnectionOptions Options(ControlServer control, MachinePrivateKey machineKey, MachinePublicKey controlKey, ushort version = 115) => new()
    {
        ServerUrl = control.Url,
        MachineKey = machineKey,
        ControlKey = controlKey,
        ProtocolVersion = version,
    };

    // Protocol doc §8.1: the minimal register body, hand-written (the model types are another part's).
    private static string NewNodeKey() => "nodekey:" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    private static HttpRequestMessage RegisterRequest(int version, string authKey, string? nodeKey = null)
    {
        nodeKey ??= NewNodeKey();
        string json = $"{{\"Version\":{version},\"NodeKey\":\"{nodeKey}\",\"Auth\":{{\"AuthKey\":\"{authKey}\"}},\"Hostinfo\":{{\"Hostname\":\"tsnet-transport-test\",\"OS\":\"linux\",\"IPNVersion\":\"0.1.0\"}}}}";
        var request = new HttpRequestMessage(HttpMethod.Post, "/machine/register") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("Ts-Lb", nodeKey);
        return request;
    }

    /// <summary>The harness's control server in its own work directory; kept for inspection when the test failed.</summary>
    private sealed class ControlServer : IAsyncDisposable
    {
        private readonly TailscaleWorkDir _workDir;
        private readonly TestControlServer _server;

        private ControlServer(TailscaleWorkDir workDir, TestControlServer server)
        {
            _workDir = workDir;
            _server = server;
            Url = new Uri(server.Url);
        }

        public Uri Url { get; }

        /// <summary>Marks the test passed: the work directory is deleted on dispose.</summary>
        public void Complete() => _workDir.Complete();

        public static async Task<ControlServer> StartAsync(TestLog log)
        {
            TailscaleBinaries.EnsureAvailable();
            using var bound = new CancellationTokenSource(TestControlServer.StartTimeout);
            var workDir = await TailscaleWorkDir.CreateAsync(log, bound.Token);
            try
            {
                return new ControlServer(workDir, await TestControlServer.StartAsync(workDir, cancellationToken: bound.Token));
            }
            catch
            {
                await workDir.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _server.DisposeAsync();
            await _workDir.DisposeAsync();
        }
    }
}
