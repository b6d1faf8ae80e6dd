using System.Net;
using System.Net.Sockets;
using TsNet.Tests.Netstack;
using TsNet.Tests.Services;

namespace TsNet.Tests.Publishing;

/// <summary>
/// Over the session cap every datagram of a new sender is dropped; its log line is rate-limited per mapping on the
/// publication's clock, so a flood is one line per interval that says how many drops it stands for.
/// </summary>
public sealed class PublishUdpLogTests
{
    private const int SessionLimitEvent = 3207;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SessionCapDrops_LogOneLinePerInterval_WithTheSuppressedCount()
    {
        using var cts = new CancellationTokenSource(Bound);
        var log = new LogRecorder();
        await using var pair = await NodePair.StartAsync(cts.Token, limitsOfA: new TailnetLimits { PublishedUdpMaxSessions = 1 }, loggerFactoryOfA: log);
        await using var echo = await pair.B.BindUdpAsync(5355, cts.Token);
        var echoLoop = PublishUdpTests.RunOverlayEchoAsync(echo, new List<IPEndPoint>(), cts.Token);
        var clock = new ManualTimeProvider();
        await using var publication = await pair.A.PublishWithClockAsync([PortMapping.ParseForward("udp:127.0.0.1:0=100.64.0.2:5355")], clock, cts.Token);
        var port = publication.Ports[0];
        using var first = PublishUdpTests.HostClient();
        using var flooder = PublishUdpTests.HostClient();
        var ping = "ping"u8.ToArray();
        (await PublishUdpTests.ExchangeAsync(first, port.EndPoint, ping, cts.Token)).Should().Equal(ping);

        // 50 datagrams from a second sender while the one session slot is taken: 50 drops, one line.
        for (var i = 0; i < 50; i++)
        {
            await flooder.SendToAsync(ping, SocketFlags.None, port.EndPoint, cts.Token);
        }

        (await NodePair.EventuallyAsync(() => port.DroppedDatagrams == 50, TimeSpan.FromSeconds(10))).Should().BeTrue();
        log.Messages(SessionLimitEvent).Should().ContainSingle().Which.Should().Contain("(0 more dropped");

        // One interval later the next drop is logged again and accounts for the 49 held back.
        clock.Advance(TimeSpan.FromSeconds(10));
        await flooder.SendToAsync(ping, SocketFlags.None, port.EndPoint, cts.Token);
        (await NodePair.EventuallyAsync(() => log.Messages(SessionLimitEvent).Count == 2, TimeSpan.FromSeconds(10))).Should().BeTrue();
        port.DroppedDatagrams.Should().Be(51);
        var lines = log.Messages(SessionLimitEvent);
        lines[1].Should().Contain("(49 more dropped");

        await cts.CancelAsync();
        await echoLoop;
    }
}
