using System.Diagnostics.Metrics;
using System.Net;
using TsNet.Metrics;
using TsNet.Tests.ControlMode;
using TsNet.Tests.Hosting;
using TsNet.Underlay;

namespace TsNet.Tests.Metrics;

/// <summary>The <c>TsNet</c> meter: its instruments (names, units, kinds), and values that follow the node's traffic.</summary>
public sealed class TailnetMetricsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>Name → (unit, kind) of every instrument, as the README documents them.</summary>
    public static TheoryData<string, string, string> Instruments => new()
    {
        { "tsnet.wireguard.bytes", "By", "ObservableCounter" },
        { "tsnet.wireguard.packets", "{packet}", "ObservableCounter" },
        { "tsnet.drops", "{packet}", "ObservableCounter" },
        { "tsnet.wireguard.handshakes", "{handshake}", "ObservableCounter" },
        { "tsnet.wireguard.sessions", "{session}", "ObservableUpDownCounter" },
        { "tsnet.tcp.connections.active", "{connection}", "ObservableUpDownCounter" },
        { "tsnet.peers", "{peer}", "ObservableUpDownCounter" },
        { "tsnet.derp.connections", "{connection}", "ObservableUpDownCounter" },
        { "tsnet.control.reconnects", "{reconnect}", "ObservableCounter" },
        { "tsnet.relay.endpoints", "{endpoint}", "ObservableUpDownCounter" },
    };

    [Theory]
    [MemberData(nameof(Instruments))]
    public async Task Instrument_IsPublishedOnTheTsNetMeter_WithItsUnitAndKind(string name, string unit, string kind)
    {
        await using var node = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { HostingTestSupport.A } });
        using var recorder = new MeterRecorder(node.Metrics.Meter);

        node.Metrics.Meter.Name.Should().Be("TsNet").And.Be(TailnetMetrics.MeterName);
        var instrument = recorder.Instruments.Should().ContainKey(name).WhoseValue;
        instrument.Unit.Should().Be(unit);
        instrument.GetType().Name.Should().StartWith(kind + "`");
        instrument.Description.Should().NotBeNullOrWhiteSpace();
        recorder.Instruments.Should().HaveCount(Instruments.Count(), "the README lists every instrument");
    }

    [Fact]
    public async Task BeforeStart_EveryInstrumentReadsZero()
    {
        await using var node = new TailnetServer(new TailnetServerOptions { PrivateKey = WireGuardKey.Generate(), Addresses = { HostingTestSupport.A } });
        using var recorder = new MeterRecorder(node.Metrics.Meter);

        recorder.Collect();

        recorder.Value("tsnet.wireguard.bytes", "direction=receive").Should().Be(0);
        recorder.Value("tsnet.wireguard.handshakes").Should().Be(0);
        recorder.Value("tsnet.peers", "path=none").Should().Be(0);
        recorder.Series("tsnet.drops").Should().BeEmpty();
    }

    [Fact]
    public async Task Values_FollowTrafficBetweenTwoNodes()
    {
        using var cts = new CancellationTokenSource(Bound);
        using var hub = new InMemoryUnderlayHub(TimeProvider.System);
        await using var a = await HostingTestSupport.StartedStaticNodeAsync(hub, HostingTestSupport.A, cts.Token);
        await using var b = await HostingTestSupport.StartedStaticNodeAsync(hub, HostingTestSupport.B, cts.Token);
        using var recorder = new MeterRecorder(a.Metrics.Meter);
        recorder.Collect();
        recorder.Value("tsnet.peers", "path=direct").Should().Be(0);
        recorder.Value("tsnet.wireguard.sessions").Should().Be(0);

        await HostingTestSupport.PairAsync(a, HostingTestSupport.A, b, HostingTestSupport.B, cts.Token);
        var listener = await b.ListenTcpAsync(7000, cts.Token);
        await using var connection = await a.ConnectTcpAsync(new IPEndPoint(HostingTestSupport.B.BaseAddress, 7000), cts.Token);
        await using var accepted = await listener.AcceptAsync(cts.Token);
        await connection.WriteAsync(new byte[10_000], cts.Token);
        var received = 0;
        var buffer = new byte[4096];
        while (received < 10_000)
        {
            received += await accepted!.ReadAsync(buffer, cts.Token);
        }

        await HostingTestSupport.WaitUntilAsync(() =>
        {
            recorder.Collect();
            return recorder.Value("tsnet.wireguard.bytes", "direction=transmit") > 10_000 && recorder.Value("tsnet.tcp.connections.active") == 1;
        }, cts.Token);

        recorder.Value("tsnet.wireguard.bytes", "direction=receive").Should().BeGreaterThan(0);
        recorder.Value("tsnet.wireguard.packets", "direction=transmit").Should().BeGreaterThanOrEqualTo(8, "10 000 bytes of TCP take at least 8 segments of 1240 bytes");
        recorder.Value("tsnet.wireguard.packets", "direction=receive").Should().BeGreaterThan(0, "pongs and ACKs came back");
        recorder.Value("tsnet.wireguard.handshakes").Should().BeGreaterThanOrEqualTo(1);
        recorder.Value("tsnet.wireguard.sessions").Should().Be(1);
        recorder.Value("tsnet.peers", "path=direct").Should().Be(1);
        recorder.Value("tsnet.peers", "path=none").Should().Be(0);
        recorder.Value("tsnet.derp.connections").Should().Be(0, "no DERP client feeds it yet");
        recorder.Value("tsnet.relay.endpoints").Should().Be(0);

        var sentBefore = recorder.Value("tsnet.wireguard.bytes", "direction=transmit")!.Value;
        connection.Abort();
        await HostingTestSupport.WaitUntilAsync(() =>
        {
            recorder.Collect();
            return recorder.Value("tsnet.tcp.connections.active") == 0;
        }, cts.Token);
        recorder.Value("tsnet.wireguard.bytes", "direction=transmit").Should().BeGreaterThanOrEqualTo(sentBefore, "a counter never goes back");
    }

    [Fact]
    public async Task Drops_AreReportedByReason()
    {
        using var cts = new CancellationTokenSource(Bound);
        using var hub = new InMemoryUnderlayHub(TimeProvider.System);
        await using var a = await HostingTestSupport.StartedStaticNodeAsync(hub, HostingTestSupport.A, cts.Token);
        await using var b = await HostingTestSupport.StartedStaticNodeAsync(hub, HostingTestSupport.B, cts.Token);
        await HostingTestSupport.PairAsync(a, HostingTestSupport.A, b, HostingTestSupport.B, cts.Token);
        using var recorder = new MeterRecorder(b.Metrics.Meter);

        // A datagram to a port nobody listens on: b's netstack drops it and counts why.
        await using var socket = await a.BindUdpAsync(0, cts.Token);
        await socket.SendToAsync(new byte[] { 1, 2, 3 }, new IPEndPoint(HostingTestSupport.B.BaseAddress, 9), cts.Token);
        await HostingTestSupport.WaitUntilAsync(() =>
        {
            recorder.Collect();
            return recorder.Series("tsnet.drops").Count > 0;
        }, cts.Token);

        var status = b.GetStatus();
        var drops = recorder.Series("tsnet.drops");
        drops.Keys.Should().OnlyContain(tags => tags.StartsWith("reason=", StringComparison.Ordinal));
        drops.Keys.Select(tags => tags["reason=".Length..]).Should().BeSubsetOf(status.Drops.Keys, "the reasons are those TailnetStatus.Drops names");
    }

    [Fact]
    public async Task DerpHook_AndControlReconnects_AreReported()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var node = await tailnet.AddNodeAsync("web", 1, cts.Token);
        using var recorder = new MeterRecorder(node.Server.Metrics.Meter);
        var derpServers = 0;
        node.Server.Metrics.ObserveDerpConnections(() => derpServers);

        node.Session.Observer.OnControlConnectionChanged(true, null);
        derpServers = 2;
        recorder.Collect();
        recorder.Value("tsnet.control.reconnects").Should().Be(0, "the first connection is no reconnect");
        recorder.Value("tsnet.derp.connections").Should().Be(2);

        node.Session.Observer.OnControlConnectionChanged(false, new IOException("reset"));
        node.Session.Observer.OnControlConnectionChanged(true, null);
        node.Session.Observer.OnControlConnectionChanged(false, new IOException("reset"));
        node.Session.Observer.OnControlConnectionChanged(true, null);
        recorder.Collect();
        recorder.Value("tsnet.control.reconnects").Should().Be(2);
    }

    [Fact]
    public async Task DisposingTheNode_EndsItsMeter()
    {
        using var cts = new CancellationTokenSource(Bound);
        using var hub = new InMemoryUnderlayHub(TimeProvider.System);
        var node = await HostingTestSupport.StartedStaticNodeAsync(hub, HostingTestSupport.A, cts.Token);
        using var recorder = new MeterRecorder(node.Metrics.Meter);

        await node.DisposeAsync();

        recorder.Completed.Should().BeEquivalentTo(recorder.Instruments.Keys, "every instrument of a disposed node ends");
    }
}
