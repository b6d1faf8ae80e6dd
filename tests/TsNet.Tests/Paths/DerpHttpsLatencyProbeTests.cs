using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TsNet.Control.Protocol;
using TsNet.Paths;

namespace TsNet.Tests.Paths;

/// <summary><see cref="DerpHttpsLatencyProbe"/> against a local TLS server that answers as the test says.</summary>
public sealed class DerpHttpsLatencyProbeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Ok_MeasuresTheLatency_WithTheDerpTlsSettings_AndTheLatencyCheckPath()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new LatencyCheckServer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

        var latency = await DerpHttpsLatencyProbe.MeasureAsync(server.Node(), TimeProvider.System, cts.Token);

        latency.Should().NotBeNull();
        latency!.Value.Should().BePositive().And.BeLessThan(DerpHttpsLatencyProbe.Timeout);
        server.RequestHeads.Should().ContainSingle().Which.Should().StartWith("GET /derp/latency-check HTTP/1.1\r\nHost: derp.latency.test\r\n");
        server.SniNames.Should().Equal(LatencyCheckServer.HostName);
        server.Alpn.Should().Equal("http/1.1");
    }

    [Fact]
    public async Task NonSuccessStatus_IsNoMeasurement()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new LatencyCheckServer("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");

        (await DerpHttpsLatencyProbe.MeasureAsync(server.Node(), TimeProvider.System, cts.Token)).Should().BeNull();
    }

    [Fact]
    public async Task UntrustedCertificate_IsNoMeasurement_UnlessInsecureForTests()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new LatencyCheckServer("HTTP/1.1 200 OK\r\n\r\n");

        (await DerpHttpsLatencyProbe.MeasureAsync(server.Node() with { InsecureForTests = false }, TimeProvider.System, cts.Token)).Should().BeNull();
    }

    [Fact]
    public async Task SilentServer_GivesUpAfterTheTimeout()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var server = new LatencyCheckServer(answer: null);
        var clock = Stopwatch.StartNew();

        (await DerpHttpsLatencyProbe.MeasureAsync(server.Node(), TimeProvider.System, cts.Token)).Should().BeNull();

        clock.Elapsed.Should().BeGreaterThanOrEqualTo(DerpHttpsLatencyProbe.Timeout - TimeSpan.FromMilliseconds(100))
            .And.BeLessThan(DerpHttpsLatencyProbe.Timeout + TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task CallerCancellation_Throws()
    {
        await using var server = new LatencyCheckServer(answer: null);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var probe = () => DerpHttpsLatencyProbe.MeasureAsync(server.Node(), TimeProvider.System, cts.Token);

        await probe.Should().ThrowAsync<OperationCanceledException>();
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n", true)]
    [InlineData("HTTP/1.0 204 No Content\r\n\r\n", true)]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\n\r\n", false)]
    [InlineData("HTTP/1.1 500 Internal Server Error\r\n\r\n", false)]
    [InlineData("HTTP/2 200\r\n\r\n", false)]
    [InlineData("", false)]
    public void StatusLine_SuccessIsHttp1x2xx(string head, bool success) => DerpHttpsLatencyProbe.IsSuccess(head).Should().Be(success);

    /// <summary>A TLS server on 127.0.0.1 that reads one request head and writes <c>answer</c> (null: never answers).</summary>
    private sealed class LatencyCheckServer : IAsyncDisposable
    {
        public const string HostName = "derp.latency.test";

        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly X509Certificate2 _certificate = MakeCertificate();
        private readonly string? _answer;
        private readonly Task _accepting;

        public LatencyCheckServer(string? answer)
        {
            _answer = answer;
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public ConcurrentQueue<string> RequestHeads { get; } = new();

        public ConcurrentQueue<string> SniNames { get; } = new();

        public ConcurrentQueue<string> Alpn { get; } = new();

        public DERPNode Node() => new()
        {
            Name = "1a",
            RegionID = 1,
            HostName = HostName,
            IPv4 = "127.0.0.1",
            IPv6 = "none",
            DERPPort = ((IPEndPoint)_listener.LocalEndpoint).Port,
            InsecureForTests = true,
        };

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting.ContinueWith(_ => { }, TaskScheduler.Default);
            _certificate.Dispose();
            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            var served = new List<Task>();
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    served.Add(ServeAsync(await _listener.AcceptSocketAsync(_stop.Token)));
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }

            await Task.WhenAll(served);
        }

        private async Task ServeAsync(Socket socket)
        {
            try
            {
                await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
                await tls.AuthenticateAsServerAsync(
                    new SslServerAuthenticationOptions
                    {
                        ServerCertificate = _certificate,
                        ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                    },
                    _stop.Token);
                SniNames.Enqueue(tls.TargetHostName);
                Alpn.Enqueue(tls.NegotiatedApplicationProtocol.ToString());
                var head = new StringBuilder();
                var one = new byte[1];
                while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await tls.ReadAsync(one, _stop.Token) == 1)
                {
                    head.Append((char)one[0]);
                }

                RequestHeads.Enqueue(head.ToString());
                if (_answer is null)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }

                await tls.WriteAsync(Encoding.ASCII.GetBytes(_answer!), _stop.Token);
                await tls.FlushAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
            {
                // The client went away or the test ended.
            }
        }

        private static X509Certificate2 MakeCertificate()
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=" + HostName, key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(HostName);
            request.CertificateExtensions.Add(san.Build());
            using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), null);
        }
    }
}
