using System.Net;
using System.Net.Sockets;
using System.Text;
using TsNet.Filter;
using TsNet.Tests.Facade;

namespace TsNet.Tests.Filter;

/// <summary>
/// The filter in a running node: two in-process nodes on the in-memory underlay (A = 100.64.0.1, B = 100.64.0.2),
/// both given the same rules as a control server gives every node of a tailnet.
/// </summary>
public sealed class PacketFilterFacadeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>How long a connect to a filtered port is given before it counts as "got nothing".</summary>
    private static readonly TimeSpan SilenceWait = TimeSpan.FromSeconds(2);

    private static readonly IPAddress A = IPAddress.Parse("100.64.0.1");
    private static readonly IPAddress B = IPAddress.Parse("100.64.0.2");

    private static PacketFilter Rules(string json) => PacketFilter.Parse(Encoding.UTF8.GetBytes(json));

    /// <summary>Only <paramref name="protocols"/> to <paramref name="port"/> from A to B, IPv4 and IPv6.</summary>
    private static PacketFilter OnlyFromAToB(int port, string protocols) =>
        Rules($$$"""
            [{"SrcIPs":["100.64.0.1","fd7a:115c:a1e0::1"],
              "DstPorts":[{"IP":"100.64.0.2","Ports":{"First":{{{port}}},"Last":{{{port}}}}},{"IP":"fd7a:115c:a1e0::2","Ports":{"First":{{{port}}},"Last":{{{port}}}}}],
              "IPProto":{{{protocols}}}}]
            """);

    private static async Task SetBothAsync(TailnetServer a, TailnetServer b, PacketFilter rules, CancellationToken cancellationToken)
    {
        await a.SetPacketFilterAsync(rules, cancellationToken);
        await b.SetPacketFilterAsync(rules, cancellationToken);
    }

    private static long Denied(TailnetServer node) => node.GetStatus().Drops.GetValueOrDefault("filter.Denied");

    /// <summary>Connects and echoes one line through <paramref name="listener"/>'s side.</summary>
    private static async Task RoundTripAsync(TailnetServer client, TailnetListener listener, string remote, CancellationToken cancellationToken)
    {
        var accept = listener.AcceptAsync(cancellationToken).AsTask();
        await using var connection = await client.ConnectTcpAsync(remote, cancellationToken);
        await using var accepted = await accept ?? throw new InvalidOperationException("listener closed");
        await connection.WriteAsync("ping\n"u8.ToArray(), cancellationToken);
        var buffer = new byte[5];
        await accepted.ReadExactlyAsync(buffer, cancellationToken);
        await accepted.WriteAsync(buffer, cancellationToken);
        var back = new byte[5];
        await connection.ReadExactlyAsync(back, cancellationToken);
        Encoding.ASCII.GetString(back).Should().Be("ping\n");
    }

    /// <summary>A connect that hears nothing: cancelled by the bounded wait, not refused (the SYN never reached the netstack).</summary>
    private static async Task ConnectGetsNothingAsync(TailnetServer client, string remote, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(SilenceWait);
        var connect = async () => await client.ConnectTcpAsync(remote, wait.Token);
        await connect.Should().ThrowAsync<OperationCanceledException>();
        cancellationToken.IsCancellationRequested.Should().BeFalse("the test's own bound must not be what ended the wait");
    }

    [Fact]
    public async Task AllowedPortConnectsOtherPortGetsNothingAndDropsAreCounted()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var allowed = await b.ListenTcpAsync(8765, cts.Token);

            // Without a filter, a closed port answers with a reset at once.
            var refused = async () => await a.ConnectTcpAsync("100.64.0.2:8766", cts.Token);
            (await refused.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused);

            await SetBothAsync(a, b, OnlyFromAToB(8765, "[6]"), cts.Token);
            Denied(b).Should().Be(0);

            // A→B:8765: the SYN matches B's rule; B's replies pass A's filter (A allows nothing new inbound).
            await RoundTripAsync(a, allowed, "100.64.0.2:8765", cts.Token);
            Denied(a).Should().Be(0);

            // A→B:8766: dropped at B before its netstack, so no reset either.
            await ConnectGetsNothingAsync(a, "100.64.0.2:8766", cts.Token);
            Denied(b).Should().BeGreaterThanOrEqualTo(1);
            b.GetStatus().Drops.Should().NotContainKey("filter.Malformed");

            // B→A: no rule lets B open anything on A.
            await using var onA = await a.ListenTcpAsync(8765, cts.Token);
            await ConnectGetsNothingAsync(b, "100.64.0.1:8765", cts.Token);
            Denied(a).Should().BeGreaterThanOrEqualTo(1);

            // The allowed connection still works after the denials.
            await RoundTripAsync(a, allowed, "100.64.0.2:8765", cts.Token);
        }
    }

    [Fact]
    public async Task FilterChangeAppliesToTheNextConnectionAtOnce()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var first = await b.ListenTcpAsync(8765, cts.Token);
            await using var second = await b.ListenTcpAsync(8766, cts.Token);
            await SetBothAsync(a, b, OnlyFromAToB(8765, "[6]"), cts.Token);
            await ConnectGetsNothingAsync(a, "100.64.0.2:8766", cts.Token);

            // An open connection on 8765 before the change.
            var accept = first.AcceptAsync(cts.Token).AsTask();
            await using var established = await a.ConnectTcpAsync("100.64.0.2:8765", cts.Token);
            await using var establishedServer = await accept ?? throw new InvalidOperationException("listener closed");

            await SetBothAsync(a, b, OnlyFromAToB(8766, "[6]"), cts.Token);
            await RoundTripAsync(a, second, "100.64.0.2:8766", cts.Token);
            await ConnectGetsNothingAsync(a, "100.64.0.2:8765", cts.Token);

            // Judged at its SYN: the connection opened under the old rules carries on.
            await established.WriteAsync("still\n"u8.ToArray(), cts.Token);
            var buffer = new byte[6];
            await establishedServer.ReadExactlyAsync(buffer, cts.Token);
            Encoding.ASCII.GetString(buffer).Should().Be("still\n");

            // Back to no filter: everything is let in again.
            await a.SetPacketFilterAsync(null, cts.Token);
            await b.SetPacketFilterAsync(null, cts.Token);
            await RoundTripAsync(a, first, "100.64.0.2:8765", cts.Token);
        }
    }

    [Fact]
    public async Task PingIsAllowedOrDeniedByIpProto()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            // ICMP listed: A's echo reaches B (any port rule matches ICMP) and B's reply passes A as a reply.
            await SetBothAsync(a, b, OnlyFromAToB(8765, "[1,58]"), cts.Token);
            await a.PingAsync(B, TimeSpan.FromSeconds(5), cts.Token);
            await a.PingAsync(IPAddress.Parse("fd7a:115c:a1e0::2"), TimeSpan.FromSeconds(5), cts.Token);
            Denied(a).Should().Be(0);
            Denied(b).Should().Be(0);

            // ... but B may not ping A.
            var fromB = async () => await b.PingAsync(A, SilenceWait, cts.Token);
            await fromB.Should().ThrowAsync<TimeoutException>();
            Denied(a).Should().Be(1);

            // TCP only: A's echo is dropped at B.
            await SetBothAsync(a, b, OnlyFromAToB(8765, "[6]"), cts.Token);
            var fromA = async () => await a.PingAsync(B, SilenceWait, cts.Token);
            await fromA.Should().ThrowAsync<TimeoutException>();
            Denied(b).Should().Be(1);
        }
    }

    [Fact]
    public async Task UdpRepliesPassTheFilterOfTheNodeThatSent()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await SetBothAsync(a, b, OnlyFromAToB(5353, "[17]"), cts.Token);
            await using var server = await b.BindUdpAsync(5353, cts.Token);
            await using var client = await a.BindUdpAsync(0, cts.Token);

            await client.SendToAsync("query"u8.ToArray(), new IPEndPoint(B, 5353), cts.Token);
            var buffer = new byte[64];
            var request = await server.ReceiveFromAsync(buffer, cts.Token);
            Encoding.ASCII.GetString(buffer, 0, request.ReceivedBytes).Should().Be("query");
            var clientEndPoint = (IPEndPoint)request.RemoteEndPoint;

            // A allows nothing new inbound, but this is the reverse of the flow A opened.
            await server.SendToAsync("answer"u8.ToArray(), clientEndPoint, cts.Token);
            var reply = await client.ReceiveFromAsync(buffer, cts.Token);
            Encoding.ASCII.GetString(buffer, 0, reply.ReceivedBytes).Should().Be("answer");
            Denied(a).Should().Be(0);

            // A datagram B starts from another port is no reply: dropped at A and counted.
            await using var other = await b.BindUdpAsync(5354, cts.Token);
            await other.SendToAsync("unsolicited"u8.ToArray(), clientEndPoint, cts.Token);
            await WaitForAsync(() => Denied(a) == 1, cts.Token);

            // The flow is still there for the next answer; the unsolicited datagram never arrived before it.
            await server.SendToAsync("again"u8.ToArray(), clientEndPoint, cts.Token);
            reply = await client.ReceiveFromAsync(buffer, cts.Token);
            Encoding.ASCII.GetString(buffer, 0, reply.ReceivedBytes).Should().Be("again");
        }
    }

    /// <summary>Polls a condition until it holds or the test's bound ends (status is cheap; a short pause between looks).</summary>
    private static async Task WaitForAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(10, cancellationToken);
        }
    }
}
