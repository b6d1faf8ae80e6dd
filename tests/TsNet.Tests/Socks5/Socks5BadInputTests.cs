using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TsNet.Tests.Facade;

namespace TsNet.Tests.Socks5;

/// <summary>Two nodes and a proxy with short deadlines, shared by the bad-input cases (which run one after another).</summary>
public sealed class Socks5BadInputFixture : IAsyncLifetime
{
    public static readonly TimeSpan NegotiationTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Routed to a peer (a made-up key, a dead loopback endpoint) that never answers a handshake.</summary>
    public static readonly IPAddress Silent = IPAddress.Parse("100.64.0.9");

    private readonly CancellationTokenSource _stop = new();
    private Task? _echo;

    public TailnetServer A { get; private set; } = null!;

    public TailnetServer B { get; private set; } = null!;

    public LoopbackProxy Proxy { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        (A, B) = await TcpFacadeTests.StartPairAsync(_stop.Token);
        var listener = await B.ListenTcpAsync(7, _stop.Token);
        _echo = ServeAsync(listener);
        A.AddOrUpdatePeer(new TailnetPeer
        {
            PublicKey = WireGuardKey.Generate().PublicKey,
            Endpoint = "127.0.0.1:9", // discard port: nothing answers WireGuard there
            AllowedIps = { new IPNetwork(Silent, 32) },
            Name = "silent",
        });
        Proxy = await A.StartLoopbackProxyAsync(
            new LoopbackProxyOptions { NegotiationTimeout = NegotiationTimeout, DialTimeout = DialTimeout },
            _stop.Token);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await Proxy.DisposeAsync();
        if (_echo is not null)
        {
            await _echo;
        }

        await A.DisposeAsync();
        await B.DisposeAsync();
        _stop.Dispose();
    }

    private async Task ServeAsync(TailnetListener listener)
    {
        await using (listener)
        {
            await OverlayServers.ServeEchoAsync(listener, _stop.Token);
        }
    }
}

/// <summary>
/// Malformed, truncated, slow and refused requests: each ends with the reply design.md §4 documents or a close, within
/// the deadline, and the proxy keeps serving others afterwards.
/// </summary>
public sealed class Socks5BadInputTests(Socks5BadInputFixture fixture) : IClassFixture<Socks5BadInputFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly IPEndPoint Echo = new(IPAddress.Parse("100.64.0.2"), 7);

    private LoopbackProxy Proxy => fixture.Proxy;

    public static TheoryData<string, byte[], byte[]> BeforeAuthentication => new()
    {
        { "SOCKS4 greeting: close without reply", [0x04, 0x01, 0x00, 0x07, 100, 64, 0, 2, 0x00], [] },
        { "version 6: close without reply", [0x06, 0x01, 0x02], [] },
        { "only no-auth offered", [0x05, 0x01, 0x00], [0x05, 0xFF] },
        { "NMETHODS 0", [0x05, 0x00], [0x05, 0xFF] },
        { "GSSAPI and no-auth offered", [0x05, 0x02, 0x00, 0x01], [0x05, 0xFF] },
    };

    [Theory]
    [MemberData(nameof(BeforeAuthentication))]
    public async Task Greeting_Bad_GetsTheDocumentedAnswerThenClose(string reason, byte[] sent, byte[] expected)
    {
        using var cts = new CancellationTokenSource(Bound);
        using (var socket = await Socks5TestClient.ConnectAsync(Proxy, cts.Token))
        {
            await socket.SendAsync(sent, cts.Token);
            (await Socks5TestClient.ReadUntilClosedAsync(socket, Socks5TestClient.Step, cts.Token)).Should().Equal(expected, reason);
        }

        await AssertStillServesAsync(cts.Token);
    }

    [Theory]
    [InlineData("tsnet", "wrong")]
    [InlineData("root", null)]
    [InlineData("", null)]
    public async Task Auth_WrongCredentials_Gets0101ThenClose(string username, string? password)
    {
        using var cts = new CancellationTokenSource(Bound);
        using (var socket = await Socks5TestClient.ConnectAsync(Proxy, cts.Token))
        {
            await socket.SendAsync(Socks5TestClient.Greeting(), cts.Token);
            (await Socks5TestClient.ReadExactlyAsync(socket, 2, cts.Token)).Should().Equal(0x05, 0x02);
            await socket.SendAsync(Socks5TestClient.Auth(username, password ?? Proxy.Password), cts.Token);
            (await Socks5TestClient.ReadUntilClosedAsync(socket, Socks5TestClient.Step, cts.Token)).Should().Equal(0x01, 0x01);
        }

        await AssertStillServesAsync(cts.Token);
    }

    [Fact]
    public async Task Auth_WrongSubnegotiationVersion_Gets0101ThenClose()
    {
        using var cts = new CancellationTokenSource(Bound);
        using var socket = await Socks5TestClient.ConnectAsync(Proxy, cts.Token);
        var auth = Socks5TestClient.Auth(Proxy.Username, Proxy.Password);
        auth[0] = 0x05;
        byte[] sent = [.. Socks5TestClient.Greeting(), .. auth];
        await socket.SendAsync(sent, cts.Token);
        (await Socks5TestClient.ReadUntilClosedAsync(socket, Socks5TestClient.Step, cts.Token)).Should().Equal(0x05, 0x02, 0x01, 0x01);
    }

    [Fact]
    public async Task Pipelined_GreetingAuthAndRequestInOneSegment_Connects()
    {
        using var cts = new CancellationTokenSource(Bound);
        using var socket = await Socks5TestClient.ConnectAsync(Proxy, cts.Token);
        byte[] sent = [.. Socks5TestClient.Greeting(), .. Socks5TestClient.Auth(Proxy.Username, Proxy.Password), .. Socks5TestClient.Request(0x01, Echo), .. "hi"u8];
        await socket.SendAsync(sent, cts.Token);
        (await Socks5TestClient.ReadExactlyAsync(socket, 4, cts.Token)).Should().Equal(0x05, 0x02, 0x01, 0x00);
        (await Socks5TestClient.ReadReplyAsync(socket, cts.Token))[1].Should().Be(0x00);
        (await Socks5TestClient.ReadExactlyAsync(socket, 2, cts.Token)).Should().Equal("hi"u8.ToArray());
    }

    [Theory]
    [InlineData("ipv4")]
    [InlineData("name")]
    public async Task Truncated_AtEveryByteBoundary_EndsInACloseWithOnlyTheAnswersEarned(string form)
    {
        using var cts = new CancellationTokenSource(Bound);
        var greeting = Socks5TestClient.Greeting();
        var auth = Socks5TestClient.Auth(Proxy.Username, Proxy.Password);
        var request = form == "ipv4" ? Socks5TestClient.Request(0x01, Echo) : Socks5TestClient.Request(0x01, "bee", 7);
        byte[] whole = [.. greeting, .. auth, .. request];
        for (var length = 0; length < whole.Length; length++)
        {
            using var socket = await Socks5TestClient.ConnectAsync(Proxy, cts.Token);
            await socket.SendAsync(whole.AsMemory(0, length), cts.Token);
            socket.Shutdown(SocketShutdown.Send);
            byte[] expected = length < greeting.Length ? []
                : length < greeting.Length + auth.Length ? [0x05, 0x02]
                : [0x05, 0x02, 0x01, 0x00];
            (await Socks5TestClient.ReadUntilClosedAsync(socket, Socks5TestClient.Step, cts.Token)).Should().Equal(expected, $"the client sent {length} of {whole.Length} bytes");
        }

        await AssertStillServesAsync(cts.Token);
    }

    public static TheoryData<string, byte[], byte> Requests => new()
    {
        { "empty domain name", [0x05, 0x01, 0x00, 0x03, 0x00, 0x00, 0x07], 0x04 },
        { "255-byte unknown domain name", [0x05, 0x01, 0x00, 0x03, 0xFF, .. Enumerable.Repeat((byte)'a', 255), 0x00, 0x07], 0x04 },
        { "unknown peer name", Socks5TestClient.Request(0x01, "nobody", 7), 0x04 },
        { "unknown name under a suffix-like form", Socks5TestClient.Request(0x01, "bee.example.invalid", 7), 0x04 },
        { "address no peer routes", Socks5TestClient.Request(0x01, new IPEndPoint(IPAddress.Parse("100.64.0.77"), 7)), 0x04 },
        { "IPv6 address no peer routes", Socks5TestClient.Request(0x01, new IPEndPoint(IPAddress.Parse("fd7a:115c:a1e0::77"), 7)), 0x04 },
        { "unknown ATYP", [0x05, 0x01, 0x00, 0x09, 100, 64, 0, 2, 0x00, 0x07], 0x08 },
        { "unknown command", Socks5TestClient.Request(0x09, Echo), 0x07 },
        { "BIND", Socks5TestClient.Request(0x02, Echo), 0x07 },
        { "BIND by name", Socks5TestClient.Request(0x02, "bee", 7), 0x07 },
        { "port 0", Socks5TestClient.Request(0x01, new IPEndPoint(Echo.Address, 0)), 0x01 },
        { "refused by the peer (no listener)", Socks5TestClient.Request(0x01, new IPEndPoint(Echo.Address, 81)), 0x05 },
        { "refused by the peer, by name", Socks5TestClient.Request(0x01, "bee", 81), 0x05 },
        { "refused by the peer over IPv6", Socks5TestClient.Request(0x01, new IPEndPoint(IPAddress.Parse("fd7a:115c:a1e0::2"), 81)), 0x05 },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Request_Failing_GetsTheMappedReplyThenClose(string reason, byte[] request, byte reply)
    {
        using var cts = new CancellationTokenSource(Bound);
        using (var socket = await Socks5TestClient.AuthenticatedAsync(Proxy, cts.Token))
        {
            await socket.SendAsync(request, cts.Token);
            (await Socks5TestClient.ReadUntilClosedAsync(socket, Socks5TestClient.Step, cts.Token)).Should().Equal(Socks5TestClient.Failure(reply), reason);
        }

        await AssertStillServesAsync(cts.Token);
    }

    [Fact]
    public async Task Request_WrongVersion_ClosesWithoutReply()
    {
        using var cts = new CancellationTokenSource(Bound);
        using var socket = await Socks5TestClient.AuthenticatedAsync(Proxy, cts.Token);
        var request = Socks5TestClient.Request(0x01, Echo);
        request[0] = 0x04;
        await socket.SendAsync(request, cts.Token);
        (await Socks5TestClient.ReadUntilClosedAsync(socket, Socks5TestClient.Step, cts.Token)).Should().BeEmpty();
    }

    [Fact]
    public async Task Connect_ToAPeerThatNeverAnswers_GetsHostUnreachableAfterTheDialTimeout()
    {
        using var cts = new CancellationTokenSource(Bound);
        var watch = Stopwatch.StartNew();
        using (var socket = await Socks5TestClient.AuthenticatedAsync(Proxy, cts.Token))
        {
            await socket.SendAsync(Socks5TestClient.Request(0x01, new IPEndPoint(Socks5BadInputFixture.Silent, 80)), cts.Token);
            (await Socks5TestClient.ReadUntilClosedAsync(socket, Socks5TestClient.Step, cts.Token))
                .Should().Equal(Socks5TestClient.Failure(0x04), "the dial timed out without a handshake with the peer: the reply the handshake bound gives");
        }

        watch.Elapsed.Should().BeGreaterThanOrEqualTo(Socks5BadInputFixture.DialTimeout - TimeSpan.FromMilliseconds(50));
        watch.Elapsed.Should().BeLessThan(Socks5BadInputFixture.NegotiationTimeout + TimeSpan.FromSeconds(3));
        await AssertStillServesAsync(cts.Token);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    public async Task Slowloris_NeverFinishingNegotiation_IsClosedAtTheDeadline(int bytesSent)
    {
        using var cts = new CancellationTokenSource(Bound);
        byte[] slow = [.. Socks5TestClient.Greeting(), .. Socks5TestClient.Auth(Proxy.Username, Proxy.Password)];
        var watch = Stopwatch.StartNew();
        using (var socket = await Socks5TestClient.ConnectAsync(Proxy, cts.Token))
        {
            await socket.SendAsync(slow.AsMemory(0, bytesSent), cts.Token);
            var received = await Socks5TestClient.ReadUntilClosedAsync(socket, Socks5BadInputFixture.NegotiationTimeout + TimeSpan.FromSeconds(5), cts.Token);
            received.Should().Equal(bytesSent >= 3 ? [0x05, 0x02] : Array.Empty<byte>());
        }

        watch.Elapsed.Should().BeGreaterThanOrEqualTo(Socks5BadInputFixture.NegotiationTimeout - TimeSpan.FromMilliseconds(50));
        await AssertStillServesAsync(cts.Token);
    }

    private async Task AssertStillServesAsync(CancellationToken cancellationToken)
    {
        var (socket, reply) = await Socks5TestClient.ConnectThroughAsync(Proxy, Echo, cancellationToken);
        using (socket)
        {
            reply[1].Should().Be(0x00);
            await socket.SendAsync("ok"u8.ToArray(), cancellationToken);
            (await Socks5TestClient.ReadExactlyAsync(socket, 2, cancellationToken)).Should().Equal("ok"u8.ToArray());
        }
    }
}
