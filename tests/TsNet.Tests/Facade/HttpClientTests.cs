using System.Net;
using System.Text;

namespace TsNet.Tests.Facade;

/// <summary>HttpClient over the tailnet: SocketsHttpHandler's ConnectCallback dials TsNet TCP.</summary>
public sealed class HttpClientTests
{
    [Fact]
    public async Task GetByPeerName_AndByIp_ReachesAnHttpServerOnTheOtherNode()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(80, cts.Token);
            var server = Task.Run(async () =>
            {
                // A minimal HTTP/1.1 responder: one response per connection, then close.
                for (var served = 0; served < 2; served++)
                {
                    await using var connection = await listener.AcceptAsync(cts.Token) ?? throw new InvalidOperationException();
                    var request = new StringBuilder();
                    var buffer = new byte[1024];
                    while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        var n = await connection.ReadAsync(buffer, cts.Token);
                        if (n == 0)
                        {
                            break;
                        }

                        request.Append(Encoding.ASCII.GetString(buffer, 0, n));
                    }

                    var path = request.ToString().Split(' ')[1];
                    var body = Encoding.UTF8.GetBytes($"hello {path} from {connection.LocalEndPoint}");
                    var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                    await connection.WriteAsync(head, cts.Token);
                    await connection.WriteAsync(body, cts.Token);
                    await connection.ShutdownWriteAsync(cts.Token);
                }
            }, cts.Token);

            using var http = a.CreateHttpClient();
            (await http.GetStringAsync(new Uri("http://bee/one"), cts.Token)).Should().Be("hello /one from 100.64.0.2:80");
            (await http.GetStringAsync(new Uri("http://100.64.0.2/two"), cts.Token)).Should().Be("hello /two from 100.64.0.2:80");
            await server;

            var unknown = async () => await http.GetStringAsync(new Uri("http://example.invalid/"), cts.Token);
            await unknown.Should().ThrowAsync<HttpRequestException>();
        }
    }
}

/// <summary>GetStatus: peers' sessions and drop counters.</summary>
public sealed class StatusTests
{
    [Fact]
    public async Task GetStatus_ReportsPeerSessionsBytesAndDrops()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            // A datagram from B to a port of A without a socket: A's netstack drops and counts it (a dial to an
            // address no peer routes no longer reaches the dataplane's NoRoute counter: it fails before sending).
            await using var fromB = await b.BindUdpAsync(0, cts.Token);
            var status = a.GetStatus();
            for (var i = 0; i < 50 && !status.Drops.ContainsKey("netstack.NoUdpSocket"); i++)
            {
                await fromB.SendToAsync(new byte[] { 1 }, new IPEndPoint(IPAddress.Parse("100.64.0.1"), 9), cts.Token);
                await Task.Delay(20, cts.Token); // next datagram, not a wait for the count: the loop condition bounds it
                status = a.GetStatus();
            }

            status.PublicKey.Should().Be(a.PublicKey);
            status.ListenPort.Should().Be(a.ListenPort);
            status.Addresses.Should().Contain(IPAddress.Parse("100.64.0.1"));
            var peer = status.Peers.Should().ContainSingle().Subject;
            peer.PublicKey.Should().Be(b.PublicKey);
            peer.Name.Should().Be("bee");
            peer.SessionState.Should().Be("established");
            peer.Endpoint.Should().Be(new IPEndPoint(IPAddress.Loopback, b.ListenPort));
            peer.LastHandshake.Should().NotBeNull();
            peer.LastHandshake!.Value.Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromSeconds(30));
            peer.TxBytes.Should().BeGreaterThan(0);
            peer.RxBytes.Should().BeGreaterThan(0);
            status.Drops.Should().ContainKey("netstack.NoUdpSocket");
        }
    }
}
