using System.Net;
using System.Net.Sockets;
using TsNet.Control.Transport;

namespace TsNet.Tests.Control.Transport;

public class ControlDialerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task SilentFirstTarget_SecondStartsAfterItsDelay_AndWins()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        await using var server = await FakeControlServer.StartAsync();
        ControlDialTarget[] targets =
        [
            new("127.0.0.1", ((IPEndPoint)silent.LocalEndpoint).Port, UseTls: false, TimeSpan.Zero),
            new("127.0.0.1", server.Port, UseTls: false, TimeSpan.FromMilliseconds(200)),
        ];
        using var cts = new CancellationTokenSource(Bound);

        var result = await ControlDialer.ConnectAsync(server.Options(), targets, cts.Token);
        await using var _ = result.Stream;

        result.Target.Should().Be(targets[1]);
        server.Handshakes.Should().Be(1);
    }

    [Fact]
    public async Task FailedFirstTarget_StartsTheSecondAtOnce()
    {
        using var refusing = BoundNotListening(out int refusedPort);
        await using var server = await FakeControlServer.StartAsync();
        ControlDialTarget[] targets =
        [
            new("127.0.0.1", refusedPort, UseTls: false, TimeSpan.Zero),
            // Far beyond the connect timeout: only the first target's failure can start it in time.
            new("127.0.0.1", server.Port, UseTls: false, TimeSpan.FromMinutes(5)),
        ];
        var options = server.Options();

        var result = await ControlDialer.ConnectAsync(options, targets, CancellationToken.None).WaitAsync(Bound);
        await using var _ = result.Stream;

        result.Target.Should().Be(targets[1]);
    }

    [Fact]
    public async Task AllTargetsRefused_ThrowsWithEveryFailure()
    {
        using var refusing = BoundNotListening(out int refusedPort);
        await using var server = await FakeControlServer.StartAsync();
        ControlDialTarget[] targets =
        [
            new("127.0.0.1", refusedPort, UseTls: false, TimeSpan.Zero),
            new("127.0.0.1", refusedPort, UseTls: true, TimeSpan.FromMilliseconds(100)),
        ];

        var failure = await FluentActions.Invoking(() => ControlDialer.ConnectAsync(server.Options(), targets, CancellationToken.None).WaitAsync(Bound))
            .Should().ThrowAsync<IOException>();
        failure.Which.InnerException.Should().BeOfType<AggregateException>().Which.InnerExceptions.Should().HaveCount(2);
    }

    // A port bound but not listening refuses connections, and stays ours for the test: a port freed by closing a
    // listener could be taken by a parallel test's listener (then the dial would hang instead of failing).
    private static Socket BoundNotListening(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }
}
