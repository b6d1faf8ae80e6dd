using System.Net;
using System.Net.Sockets;
using TsNet.Tests.Publishing;
using TsNet.Underlay;

namespace TsNet.Tests.Facade;

/// <summary>A start that fails leaves nothing bound and keeps failing the same way; a jumbo MTU no longer fails it.</summary>
public sealed class StartFailureTests
{
    [Fact]
    public async Task FailureAfterBind_ReleasesTheUdpPort_AndStartAgainThrowsTheSameError()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var port = NodePair.FreeHostPort(SocketType.Dgram);
        bool? portFreeWhileStarting = null;
        await using var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
            ListenPort = port,
            TestHooks = new TailnetTestHooks
            {
                AfterUnderlayBound = () =>
                {
                    portFreeWhileStarting = NodePair.HostPortIsFree(SocketType.Dgram, port);
                    throw new InvalidOperationException("injected start failure");
                },
            },
        });

        var start = async () => await node.StartAsync(cts.Token);
        var first = (await start.Should().ThrowAsync<InvalidOperationException>().WithMessage("injected start failure")).Which;
        portFreeWhileStarting.Should().BeFalse("the hook runs with the underlay bound");
        NodePair.HostPortIsFree(SocketType.Dgram, port).Should().BeTrue("a failed start closes the sockets it bound");
        node.OwnedSockets().Should().BeEmpty();
        node.OwnedTasks().Where(t => !t.IsCompleted).Should().BeEmpty();

        (await start.Should().ThrowAsync<InvalidOperationException>()).Which.Should().BeSameAs(first, "StartAsync returns the first start's outcome");
        var ping = async () => await node.PingAsync(IPAddress.Parse("100.64.0.2"));
        await ping.Should().ThrowAsync<InvalidOperationException>().WithMessage("*not started*");
    }

    [Fact]
    public async Task DisposeAfterBind_FailsTheStartWithObjectDisposed_NotACancellation()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var port = NodePair.FreeHostPort(SocketType.Dgram);
        Task? dispose = null;
        TailnetServer? node = null;
        node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
            ListenPort = port,
            TestHooks = new TailnetTestHooks
            {
                // Dispose arrives with the underlay bound: the rest of the start sees the node's token cancelled.
                AfterUnderlayBound = () => dispose = node!.DisposeAsync().AsTask(),
            },
        });

        var start = async () => await node.StartAsync(cts.Token);
        await start.Should().ThrowAsync<ObjectDisposedException>();
        dispose.Should().NotBeNull();
        await dispose!.WaitAsync(cts.Token);
        NodePair.HostPortIsFree(SocketType.Dgram, port).Should().BeTrue("the start released what it had bound");
        node.OwnedSockets().Should().BeEmpty();
    }

    [Fact]
    public async Task Constructor_BindsNothing_StartAsyncBinds_DisposeReleases()
    {
        var port = NodePair.FreeHostPort(SocketType.Dgram);
        var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
            ListenPort = port,
        });
        NodePair.HostPortIsFree(SocketType.Dgram, port).Should().BeTrue("a constructed node holds no socket");
        await node.StartAsync();
        NodePair.HostPortIsFree(SocketType.Dgram, port).Should().BeFalse();
        node.OwnedSockets().Should().NotBeEmpty();
        await node.DisposeAsync();
        NodePair.HostPortIsFree(SocketType.Dgram, port).Should().BeTrue();
    }

    [Fact]
    public async Task PortInUse_FailsTheStart_AndReleasesNothingItDidNotOwn()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        holder.Bind(new IPEndPoint(IPAddress.Any, 0));
        var port = ((IPEndPoint)holder.LocalEndPoint!).Port;
        await using var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
            ListenPort = port,
        });

        var start = async () => await node.StartAsync(cts.Token);
        (await start.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.AddressAlreadyInUse);
        node.OwnedSockets().Should().BeEmpty();
        node.OwnedTasks().Where(t => !t.IsCompleted).Should().BeEmpty();
    }

    [Fact]
    public async Task FailureAfterBind_OnTheInMemoryHub_FreesTheHubPort()
    {
        using var hub = new InMemoryUnderlayHub(TimeProvider.System);
        await using var node = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
            TestHooks = new TailnetTestHooks
            {
                InMemoryUnderlay = hub,
                AfterUnderlayBound = () => throw new InvalidOperationException("injected start failure"),
            },
        });

        var start = async () => await node.StartAsync();
        await start.Should().ThrowAsync<InvalidOperationException>();
        hub.Ports.Should().BeEmpty();
    }

    [Fact]
    public async Task JumboMtu_StartsAndCarriesTcp()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token, mtu: 9000);
        await using (a)
        await using (b)
        {
            var data = new byte[256 * 1024];
            new Random(9).NextBytes(data);
            await using var listener = await b.ListenTcpAsync(80, cts.Token);
            var server = Task.Run(async () =>
            {
                await using var connection = await listener.AcceptAsync(cts.Token) ?? throw new InvalidOperationException();
                var received = new MemoryStream();
                await connection.CopyToAsync(received, cts.Token);
                return received.ToArray();
            }, cts.Token);
            await using var client = await a.ConnectTcpAsync("100.64.0.2:80", cts.Token);
            await client.WriteAsync(data, cts.Token);
            await client.ShutdownWriteAsync(cts.Token);
            (await server).Should().Equal(data);
        }
    }

    [Theory]
    [InlineData(1280, 2048)]
    [InlineData(1500, 2048)]
    [InlineData(9000, 9216)]
    public void PoolBuffers_HoldAnMtuSizedPacketWithWireGuardOverhead(int mtu, int expected)
    {
        TailnetServer.PoolBufferSize(mtu).Should().Be(expected);
    }
}
