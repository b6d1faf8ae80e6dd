using System.Net;
using System.Net.Sockets;

namespace TsNet.Tests.Publishing;

/// <summary>Binding all-or-nothing, and nothing left behind after disposal (of the publication or of the node).</summary>
public sealed class PublishLifecycleTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task BindFailure_ClosesTheMappingsBoundBefore_AndNamesTheOneThatFailed()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var pair = await NodePair.StartAsync(cts.Token);
        using var occupied = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        occupied.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        occupied.Listen();
        var occupiedPort = ((IPEndPoint)occupied.LocalEndPoint!).Port;
        var tcpPort = NodePair.FreeHostPort(SocketType.Stream);
        var udpPort = NodePair.FreeHostPort(SocketType.Dgram);
        var failing = PortMapping.ParseForward($"tcp:127.0.0.1:{occupiedPort}=100.64.0.2:80");
        PortMapping[] mappings =
        [
            PortMapping.ParseForward($"tcp:127.0.0.1:{tcpPort}=100.64.0.2:80"),
            PortMapping.ParseForward($"udp:127.0.0.1:{udpPort}=100.64.0.2:53"),
            PortMapping.ParsePublish("tcp:8090=127.0.0.1:9"),
            PortMapping.ParsePublish("udp:8091=127.0.0.1:9"),
            failing,
            PortMapping.ParsePublish("tcp:8092=127.0.0.1:9"),
        ];

        var act = async () => await pair.A.PublishAsync(mappings, cts.Token);

        var thrown = (await act.Should().ThrowAsync<PortPublishingException>()).Which;
        thrown.Mapping.Should().Be(failing);
        thrown.Message.Should().Contain(failing.ToString());
        thrown.InnerException.Should().BeOfType<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.AddressAlreadyInUse);

        NodePair.HostPortIsFree(SocketType.Stream, tcpPort).Should().BeTrue("the host TCP listener bound before the failure was closed");
        NodePair.HostPortIsFree(SocketType.Dgram, udpPort).Should().BeTrue("the host UDP socket bound before the failure was closed");
        await using (await pair.A.ListenTcpAsync(8090, cts.Token))
        await using (await pair.A.BindUdpAsync(8091, cts.Token))
        await using (await pair.A.ListenTcpAsync(8092, cts.Token))
        {
            // The overlay ports bound before the failure are free again (and the one after was never bound).
        }
    }

    [Fact]
    public async Task OverlayPortTaken_OrUnknownPeerName_FailsNamingTheMapping()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var pair = await NodePair.StartAsync(cts.Token);
        await using var taken = await pair.A.ListenTcpAsync(8093, cts.Token);
        var tcpPort = NodePair.FreeHostPort(SocketType.Stream);

        var overlayTaken = async () => await pair.A.PublishAsync(
            [PortMapping.ParseForward($"tcp:127.0.0.1:{tcpPort}=b:80"), PortMapping.ParsePublish("tcp:8093=127.0.0.1:9")], cts.Token);
        (await overlayTaken.Should().ThrowAsync<PortPublishingException>()).Which.Mapping.ToString().Should().Be("tcp:8093=127.0.0.1:9");
        NodePair.HostPortIsFree(SocketType.Stream, tcpPort).Should().BeTrue();

        var unknownName = async () => await pair.A.PublishAsync([PortMapping.ParseForward("udp:127.0.0.1:0=nosuchpeer:53")], cts.Token);
        var thrown = (await unknownName.Should().ThrowAsync<PortPublishingException>()).Which;
        thrown.Message.Should().Contain("udp:127.0.0.1:0=nosuchpeer:53").And.Contain("not a configured peer name");
        thrown.InnerException.Should().BeOfType<ArgumentException>();
    }

    [Fact]
    public async Task CancelledPublish_LeavesNothingBound()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var pair = await NodePair.StartAsync(cts.Token);
        var tcpPort = NodePair.FreeHostPort(SocketType.Stream);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var act = async () => await pair.A.PublishAsync(
            [PortMapping.ParseForward($"tcp:127.0.0.1:{tcpPort}=b:80"), PortMapping.ParsePublish("tcp:8094=127.0.0.1:9")], cancelled.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        NodePair.HostPortIsFree(SocketType.Stream, tcpPort).Should().BeTrue();
        await using (await pair.A.ListenTcpAsync(8094, cts.Token))
        {
            // Never bound.
        }
    }

    [Fact]
    public async Task PublishAsync_RejectsEmptyInput_AndAnUnstartedNode()
    {
        await using var node = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.9/32") } });
        var empty = async () => await node.PublishAsync([]);
        await empty.Should().ThrowAsync<ArgumentException>();
        var notStarted = async () => await node.PublishAsync([PortMapping.ParsePublish("tcp:80=127.0.0.1:8000")]);
        await notStarted.Should().ThrowAsync<InvalidOperationException>();
    }

    [Fact]
    public async Task Dispose_WithLiveTcpAndUdpSessions_LeavesNoTaskOrSocket_AndFreesEveryPort()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var pair = await NodePair.StartAsync(cts.Token);

        // B: an overlay TCP server that holds its connection open, and an overlay UDP echo.
        await using var overlayListener = await pair.B.ListenTcpAsync(8100, cts.Token);
        var overlayAccepted = overlayListener.AcceptAsync(cts.Token).AsTask();
        await using var overlayEcho = await pair.B.BindUdpAsync(8101, cts.Token);
        var overlayEchoLoop = PublishUdpTests.RunOverlayEchoAsync(overlayEcho, new List<IPEndPoint>(), cts.Token);

        // Host: a TCP server that holds its connection open, and a UDP echo.
        using var hostListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        hostListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        hostListener.Listen();
        var hostAccepted = hostListener.AcceptAsync(cts.Token).AsTask();
        using var hostEcho = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        hostEcho.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var hostEchoLoop = PublishUdpTests.RunHostEchoAsync(hostEcho, new List<IPEndPoint>(), cts.Token);

        var publication = await pair.A.PublishAsync(
            [
                PortMapping.ParseForward("tcp:127.0.0.1:0=100.64.0.2:8100"),
                PortMapping.ParseForward("udp:127.0.0.1:0=100.64.0.2:8101"),
                PortMapping.TailnetToHost(PortProtocol.Tcp, 8102, (IPEndPoint)hostListener.LocalEndPoint!),
                PortMapping.TailnetToHost(PortProtocol.Udp, 8103, (IPEndPoint)hostEcho.LocalEndPoint!),
            ],
            cts.Token);
        var ports = publication.Ports;

        // One live session through each mapping.
        using var hostClient = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await hostClient.ConnectAsync(ports[0].EndPoint, cts.Token);
        await using var overlayServerSide = await overlayAccepted ?? throw new InvalidOperationException("no connection");
        using var udpClient = PublishUdpTests.HostClient();
        (await PublishUdpTests.ExchangeAsync(udpClient, ports[1].EndPoint, [1, 2, 3], cts.Token)).Should().Equal([1, 2, 3]);
        await using var overlayClient = await pair.B.ConnectTcpAsync("100.64.0.1:8102", cts.Token);
        using var hostServerSide = await hostAccepted;
        await using var overlayUdpClient = await pair.B.BindUdpAsync(0, cts.Token);
        await overlayUdpClient.SendToAsync(new byte[] { 4, 5 }, new IPEndPoint(NodePair.AddressA, 8103), cts.Token);
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cts.Token))
        {
            wait.CancelAfter(TimeSpan.FromSeconds(5));
            (await overlayUdpClient.ReceiveFromAsync(new byte[16], wait.Token)).ReceivedBytes.Should().Be(2);
        }

        (await NodePair.EventuallyAsync(() => ports.All(p => p.ActiveSessions == 1), TimeSpan.FromSeconds(10))).Should().BeTrue("each mapping relays one session");
        var owned = publication.OwnedTasks();
        owned.Count.Should().BeGreaterThanOrEqualTo(8, "4 listener loops and 4 session tasks run: " + string.Join(", ", owned.Select(t => t.Status)) + " / " + string.Join(", ", ports.Select(p => $"{p.Mapping}: {p.ActiveSessions}/{p.TotalSessions}")));
        publication.OpenSockets.Should().Be(8, "4 listening sockets, 2 relayed connections, 2 session sockets");

        await publication.DisposeAsync();

        owned.Should().OnlyContain(t => t.IsCompleted, "no loop or session outlives the publication");
        publication.OwnedTasks().Should().BeEmpty();
        publication.OpenSockets.Should().Be(0);
        ports.Should().OnlyContain(p => p.ActiveSessions == 0);
        NodePair.HostPortIsFree(SocketType.Stream, ports[0].EndPoint.Port).Should().BeTrue();
        NodePair.HostPortIsFree(SocketType.Dgram, ports[1].EndPoint.Port).Should().BeTrue();
        await using (await pair.A.ListenTcpAsync(8102, cts.Token))
        await using (await pair.A.BindUdpAsync(8103, cts.Token))
        {
            // The overlay ports are free again.
        }

        // The relayed connections were reset on both sides.
        var hostRead = async () => await hostClient.ReceiveAsync(new byte[16], SocketFlags.None, cts.Token);
        (await hostRead.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset);
        var overlayRead = async () => await overlayClient.ReadAsync(new byte[16], cts.Token);
        (await overlayRead.Should().ThrowAsync<IOException>()).WithInnerException<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset);

        await publication.DisposeAsync(); // idempotent
        await cts.CancelAsync();
        await overlayEchoLoop;
        await hostEchoLoop;
    }

    [Fact]
    public async Task DisposingTheNode_DisposesItsPublications()
    {
        using var cts = new CancellationTokenSource(Bound);
        var pair = await NodePair.StartAsync(cts.Token);
        PortPublication publication;
        await using (pair)
        {
            publication = await pair.A.PublishAsync(
                [PortMapping.ParseForward("tcp:127.0.0.1:0=100.64.0.2:80"), PortMapping.ParseForward("udp:127.0.0.1:0=100.64.0.2:53")], cts.Token);
        }

        NodePair.HostPortIsFree(SocketType.Stream, publication.Ports[0].EndPoint.Port).Should().BeTrue("the node's disposal closed the host listener");
        NodePair.HostPortIsFree(SocketType.Dgram, publication.Ports[1].EndPoint.Port).Should().BeTrue();
        publication.OpenSockets.Should().Be(0);
        publication.OwnedTasks().Should().BeEmpty();
        await publication.DisposeAsync(); // still fine afterwards
    }
}

/// <summary>Validation of the publishing limits.</summary>
public sealed class PublishingLimitsTests
{
    [Fact]
    public void NonPositiveLimits_AreRejected_NamingTheLimit()
    {
        var sessions = () => new TailnetServer(Options(new TailnetLimits { PublishedUdpMaxSessions = 0 }));
        sessions.Should().Throw<ArgumentException>().WithMessage("*PublishedUdpMaxSessions*");
        var idle = () => new TailnetServer(Options(new TailnetLimits { PublishedUdpSessionIdle = TimeSpan.Zero }));
        idle.Should().Throw<ArgumentException>().WithMessage("*PublishedUdpSessionIdle*");
        new TailnetLimits().PublishedUdpMaxSessions.Should().Be(1024);
        new TailnetLimits().PublishedUdpSessionIdle.Should().Be(TimeSpan.FromSeconds(60));
    }

    private static TailnetServerOptions Options(TailnetLimits limits) =>
        new() { PrivateKey = WireGuardKey.Generate(), Addresses = { IPNetwork.Parse("100.64.0.1/32") }, Limits = limits };
}
