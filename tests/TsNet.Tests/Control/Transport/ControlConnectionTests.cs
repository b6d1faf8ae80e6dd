using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TsNet.Control.Transport;

namespace TsNet.Tests.Control.Transport;

public class ControlConnectionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static HttpRequestMessage Register() => new(HttpMethod.Post, "/machine/register")
    {
        Content = new StringContent("{\"Version\":130}", Encoding.UTF8, "application/json"),
    };

    [Fact]
    public async Task Http_HandshakesAndCarriesHttp2()
    {
        await using var server = await FakeControlServer.StartAsync();
        var options = server.Options();
        using var cts = new CancellationTokenSource(Bound);

        await using var connection = await ControlConnection.ConnectAsync(options, cts.Token);
        using var response = await connection.SendAsync(Register(), cancellationToken: cts.Token);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Version.Should().Be(HttpVersion.Version20);
        (await response.Content.ReadAsStringAsync(cts.Token)).Should().Be("{\"protocol\":\"HTTP/2\",\"length\":15}");
        connection.ServerPublicKey.Should().Be(server.ServerKey.PublicKey);
        connection.Session.HandshakeHash.Should().HaveCount(32);
        (await connection.GetEarlyPayloadAsync(cts.Token)).Should().BeNull();
        server.LastClient.Should().Be(options.MachineKey.PublicKey);
        server.LastHost.Should().Be($"127.0.0.1:{server.Port}");
    }

    [Fact]
    public async Task EarlyPayload_IsParsed_AndHttp2FollowsIt()
    {
        await using var server = await FakeControlServer.StartAsync(sendEarlyPayload: true);
        using var cts = new CancellationTokenSource(Bound);

        await using var connection = await ControlConnection.ConnectAsync(server.Options(), cts.Token);
        using var response = await connection.SendAsync(Register(), cancellationToken: cts.Token);

        var early = await connection.GetEarlyPayloadAsync(cts.Token);
        early.Should().NotBeNull();
        early!.NodeKeyChallenge.Should().Be(FakeControlServer.Challenge);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ConcurrentRequests_ShareOneNoiseConnection()
    {
        await using var server = await FakeControlServer.StartAsync();
        using var cts = new CancellationTokenSource(Bound);
        await using var connection = await ControlConnection.ConnectAsync(server.Options(), cts.Token);

        using var streamed = await connection.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/big/300000"), HttpCompletionOption.ResponseHeadersRead, cts.Token);
        var registers = Enumerable.Range(0, 5).Select(async _ =>
        {
            using var response = await connection.SendAsync(Register(), cancellationToken: cts.Token);
            return response.StatusCode;
        }).ToArray();
        byte[] big = await streamed.Content.ReadAsByteArrayAsync(cts.Token);

        (await Task.WhenAll(registers)).Should().AllBeEquivalentTo(HttpStatusCode.OK);
        big.Should().HaveCount(300000);
        big.Select((b, i) => b == (byte)i).Should().AllBeEquivalentTo(true);
        server.Handshakes.Should().Be(1);
        connection.Connections.Should().Be(1);
    }

    [Fact]
    public async Task ServerDropsConnection_NextRequestRedialsWithANewHandshake()
    {
        await using var server = await FakeControlServer.StartAsync();
        using var cts = new CancellationTokenSource(Bound);
        await using var connection = await ControlConnection.ConnectAsync(server.Options(), cts.Token);
        (await connection.SendAsync(Register(), cancellationToken: cts.Token)).StatusCode.Should().Be(HttpStatusCode.OK);

        await server.DropConnectionsAsync();

        // A request racing the handler's discovery of the closed connection may fail once; the next one redials.
        HttpStatusCode? status = null;
        for (int attempt = 0; attempt < 3 && status is null; attempt++)
        {
            try
            {
                using var response = await connection.SendAsync(Register(), cancellationToken: cts.Token);
                status = response.StatusCode;
            }
            catch (HttpRequestException)
            {
            }
        }

        status.Should().Be(HttpStatusCode.OK);
        connection.Connections.Should().Be(2);
        server.Handshakes.Should().Be(2);
    }

    [Theory]
    [InlineData(FakeControlBehaviour.RefuseUpgrade, "*HTTP 400*missing next protocol*")]
    [InlineData(FakeControlBehaviour.CloseAfterSwitching, "*without a handshake response*")]
    [InlineData(FakeControlBehaviour.ErrorMessage, "*server error: \"wrong handshake initiation size\"*")]
    [InlineData(FakeControlBehaviour.WrongUpgradeProtocol, "*switched to \"websocket\"*")]
    internal async Task RefusedUpgradeOrHandshake_ThrowsProtocolException(FakeControlBehaviour behaviour, string message)
    {
        await using var server = await FakeControlServer.StartAsync(behaviour);
        using var cts = new CancellationTokenSource(Bound);

        await FluentActions.Invoking(() => ControlConnection.ConnectAsync(server.Options(), cts.Token))
            .Should().ThrowAsync<ControlTransportException>().WithMessage(message);
    }

    [Fact]
    public async Task WrongServerKey_HandshakeIsRejected()
    {
        await using var server = await FakeControlServer.StartAsync();
        var options = server.Options();
        options = new ControlConnectionOptions
        {
            ServerUrl = options.ServerUrl,
            MachineKey = options.MachineKey,
            ControlKey = MachinePrivateKey.Generate().PublicKey,
            ProtocolVersion = 130,
        };
        using var cts = new CancellationTokenSource(Bound);

        await FluentActions.Invoking(() => ControlConnection.ConnectAsync(options, cts.Token))
            .Should().ThrowAsync<ControlTransportException>();
        server.Handshakes.Should().Be(0);
    }

    [Fact]
    public async Task Https_WithTrustedTestRoot_Works()
    {
        using var certificate = SelfSigned();
        await using var server = await FakeControlServer.StartAsync(certificate: certificate);
        var options = server.Options($"https://localhost:{server.Port}");
        options = new ControlConnectionOptions
        {
            ServerUrl = options.ServerUrl,
            MachineKey = options.MachineKey,
            ControlKey = options.ControlKey,
            ProtocolVersion = 130,
            TrustedRootForTests = X509CertificateLoader.LoadCertificate(certificate.RawData),
        };
        using var cts = new CancellationTokenSource(Bound);

        await using var connection = await ControlConnection.ConnectAsync(options, cts.Token);
        using var response = await connection.SendAsync(Register(), cancellationToken: cts.Token);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        server.LastHost.Should().Be($"localhost:{server.Port}");
    }

    [Fact]
    public async Task Https_UntrustedCertificate_FailsValidation()
    {
        using var certificate = SelfSigned();
        await using var server = await FakeControlServer.StartAsync(certificate: certificate);
        using var cts = new CancellationTokenSource(Bound);

        await FluentActions.Invoking(() => ControlConnection.ConnectAsync(server.Options($"https://localhost:{server.Port}"), cts.Token))
            .Should().ThrowAsync<AuthenticationException>();
        server.Handshakes.Should().Be(0);
    }

    [Fact]
    public async Task SilentServer_TimesOut()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var options = new ControlConnectionOptions
        {
            ServerUrl = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}"),
            MachineKey = MachinePrivateKey.Generate(),
            ControlKey = MachinePrivateKey.Generate().PublicKey,
            ProtocolVersion = 130,
            ConnectTimeout = TimeSpan.FromMilliseconds(300),
        };

        await FluentActions.Invoking(() => ControlConnection.ConnectAsync(options).WaitAsync(Bound)).Should().ThrowAsync<TimeoutException>();
    }

    [Fact]
    public async Task Cancellation_EndsConnect()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var options = new ControlConnectionOptions
        {
            ServerUrl = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}"),
            MachineKey = MachinePrivateKey.Generate(),
            ControlKey = MachinePrivateKey.Generate().PublicKey,
            ProtocolVersion = 130,
        };
        using var cts = new CancellationTokenSource();
        var connect = ControlConnection.ConnectAsync(options, cts.Token);

        await cts.CancelAsync();

        await FluentActions.Invoking(() => connect.WaitAsync(Bound)).Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task RefusedPort_FailsWithSocketError()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var options = new ControlConnectionOptions
        {
            ServerUrl = new Uri($"http://127.0.0.1:{port}"),
            MachineKey = MachinePrivateKey.Generate(),
            ControlKey = MachinePrivateKey.Generate().PublicKey,
            ProtocolVersion = 130,
        };

        await FluentActions.Invoking(() => ControlConnection.ConnectAsync(options).WaitAsync(Bound)).Should().ThrowAsync<SocketException>();
    }

    [Fact]
    public async Task Dispose_ClosesTheNoiseConnectionAtTheServer_AndRefusesFurtherUse()
    {
        await using var server = await FakeControlServer.StartAsync();
        using var cts = new CancellationTokenSource(Bound);
        var connection = await ControlConnection.ConnectAsync(server.Options(), cts.Token);
        (await connection.SendAsync(Register(), cancellationToken: cts.Token)).StatusCode.Should().Be(HttpStatusCode.OK);

        await connection.DisposeAsync();
        await connection.DisposeAsync();

        await server.WaitForClosedNoiseConnectionAsync(cts.Token);

        await FluentActions.Invoking(() => connection.SendAsync(Register())).Should().ThrowAsync<ObjectDisposedException>();
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }
}
