using System.Net;
using System.Net.Sockets;

namespace TsNet.Tests.Facade;

/// <summary>After DisposeAsync nothing of the node remains: no task, no timer, no socket.</summary>
public sealed class DisposeLeakTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task DisposeAsync_AfterRealWork_LeavesNoTaskTimerOrSocket()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clockA = new CountingTimeProvider();
        var clockB = new CountingTimeProvider();
        var a = new TailnetServer(Options("100.64.0.1", "fd7a:115c:a1e0::1", clockA));
        var b = new TailnetServer(Options("100.64.0.2", "fd7a:115c:a1e0::2", clockB));
        await a.StartAsync(cts.Token);
        await b.StartAsync(cts.Token);
        a.AddOrUpdatePeer(Peer(b, "100.64.0.2", "fd7a:115c:a1e0::2", "127.0.0.1:" + b.ListenPort));
        b.AddOrUpdatePeer(Peer(a, "100.64.0.1", "fd7a:115c:a1e0::1", null));

        // Real work in every part of the node: handshake, ping, TCP (left open), UDP, a capture, a peer removal.
        await PingUntilAnsweredAsync(a, IPAddress.Parse("100.64.0.2"), cts.Token);
        var capture = a.CapturePcapAsync(new MemoryStream(), CancellationToken.None);
        var listener = await b.ListenTcpAsync(9000, cts.Token);
        var accept = listener.AcceptAsync(cts.Token).AsTask();
        var client = await a.ConnectTcpAsync("100.64.0.2:9000", cts.Token);
        var server = await accept ?? throw new InvalidOperationException("no connection");
        await client.WriteAsync(new byte[100_000], cts.Token);
        await ReadExactlyAsync(server, 100_000, cts.Token);
        var udp = await a.BindUdpAsync(5353, cts.Token);
        await udp.SendToAsync(new byte[10], new IPEndPoint(IPAddress.Parse("100.64.0.2"), 5353), cts.Token);
        a.AddOrUpdatePeer(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Endpoint = "127.0.0.1:9", AllowedIps = { IPNetwork.Parse("100.64.0.9/32") } });
        a.RemovePeer(b.PublicKey);
        var ownedA = a.OwnedTasks();
        var ownedB = b.OwnedTasks();
        ownedA.Count.Should().BeGreaterThanOrEqualTo(3, "the dataplane loop, the netstack loop and at least one underlay receiver run");
        // Both loops may be busy at this instant; within a moment one of them sleeps on a timer.
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clockA.LiveTimers == 0 && clock.Elapsed < TimeSpan.FromSeconds(10);)
        {
            await Task.Delay(10, cts.Token);
        }

        clockA.LiveTimers.Should().BeGreaterThan(0, "the loops sleep on timers while running");
        var sockets = a.OwnedSockets().Concat(b.OwnedSockets()).ToList();
        sockets.Should().HaveCountGreaterThanOrEqualTo(2).And.OnlyContain(s => !s.SafeHandle.IsClosed);

        // Dispose with a connection, a listener, a UDP socket and a capture still open: the node owns their end.
        await a.DisposeAsync();
        await b.DisposeAsync();
        await capture.WaitAsync(TimeSpan.FromSeconds(10), cts.Token);

        ownedA.Concat(ownedB).Concat(a.OwnedTasks()).Concat(b.OwnedTasks()).Should().OnlyContain(t => t.IsCompleted, "no loop or background task outlives the node");
        // A cancelled Task.Delay disposes its timer after running its continuations, which can include this very
        // method when everything completes synchronously; so allow the disposals on the unwinding stack a moment.
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); (clockA.LiveTimers | clockB.LiveTimers) != 0 && clock.Elapsed < TimeSpan.FromSeconds(5);)
        {
            await Task.Delay(10, cts.Token);
        }

        clockA.LiveTimers.Should().Be(0, "every timer node A created is disposed; created at: {0}", clockA.DescribeLive());
        clockB.LiveTimers.Should().Be(0, "every timer node B created is disposed; created at: {0}", clockB.DescribeLive());
        // Checked on the sockets themselves: probing the port could race another test that binds the same ephemeral port.
        sockets.Should().OnlyContain(s => s.SafeHandle.IsClosed, "every underlay socket is closed");

        // The handles the app still holds fail cleanly instead of hanging.
        var read = async () => await client.ReadAsync(new byte[10], cts.Token);
        await read.Should().ThrowAsync<Exception>();
        (await listener.AcceptAsync(cts.Token)).Should().BeNull();
        await client.DisposeAsync();
        await server.DisposeAsync();
        await listener.DisposeAsync();
        await udp.DisposeAsync();
    }

    private static async Task ReadExactlyAsync(Stream stream, int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var total = 0;
        while (total < count)
        {
            var n = await stream.ReadAsync(buffer, cancellationToken);
            n.Should().BeGreaterThan(0);
            total += n;
        }
    }

    private static async Task PingUntilAnsweredAsync(TailnetServer node, IPAddress target, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await node.PingAsync(target, TimeSpan.FromSeconds(1), cancellationToken);
                return;
            }
            catch (TimeoutException) when (attempt < 20)
            {
                // Peers apply asynchronously; the first handshake may still be on its way.
            }
        }
    }

    private static TailnetServerOptions Options(string v4, string v6, TimeProvider clock) => new()
    {
        PrivateKey = WireGuardKey.Generate(),
        Addresses = { IPNetwork.Parse(v4 + "/32"), IPNetwork.Parse(v6 + "/128") },
        TimeProvider = clock,
    };

    private static TailnetPeer Peer(TailnetServer node, string v4, string v6, string? endpoint) => new()
    {
        PublicKey = node.PublicKey,
        Endpoint = endpoint,
        AllowedIps = { IPNetwork.Parse(v4 + "/32"), IPNetwork.Parse(v6 + "/128") },
    };

    /// <summary>The system clock, counting the timers created through it that are not yet disposed (with where they were made).</summary>
    private sealed class CountingTimeProvider : TimeProvider
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<CountedTimer, string> _live = new();

        public int LiveTimers => _live.Count;

        public string DescribeLive() => string.Join("\n---\n", _live.Values);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            // Registered before the inner timer exists: it may fire (and be disposed) before CreateTimer returns.
            var timer = new CountedTimer(this);
            _live[timer] = Environment.StackTrace;
            timer.Start(System.CreateTimer(callback, state, dueTime, period));
            return timer;
        }

        private sealed class CountedTimer(CountingTimeProvider owner) : ITimer
        {
            private ITimer? _inner;
            private int _disposed;

            public void Start(ITimer inner)
            {
                _inner = inner;
                if (Volatile.Read(ref _disposed) != 0)
                {
                    inner.Dispose();
                }
            }

            public bool Change(TimeSpan dueTime, TimeSpan period) => _inner?.Change(dueTime, period) ?? false;

            public void Dispose()
            {
                Volatile.Write(ref _disposed, 1);
                owner._live.TryRemove(this, out _);
                _inner?.Dispose();
            }

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
