namespace TsNet.Tests.ControlMode;

/// <summary>Disposing a control-mode node: the session goes first, then the loops; nothing of the node is left running.</summary>
public sealed class ControlModeDisposeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Dispose_DisposesTheSession_LeavesNoTask_AndIsStopped()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        var db = await tailnet.AddNodeAsync("db", 2, cts.Token);
        await tailnet.SyncAsync(cts.Token);
        await web.Server.PingAsync(db.Ipv4, TimeSpan.FromSeconds(10), cts.Token);
        var owned = web.Server.OwnedTasks();
        owned.Should().NotBeEmpty();
        var runningLoops = owned.Count(t => !t.IsCompleted);
        runningLoops.Should().BeGreaterThanOrEqualTo(2, "the dataplane and netstack loops run");
        int? runningAtSessionDispose = null;
        web.Session.OnDispose = () => runningAtSessionDispose = owned.Count(t => !t.IsCompleted);

        await web.Server.DisposeAsync();

        web.Session.Disposed.Should().BeTrue();
        runningAtSessionDispose.Should().BeGreaterThanOrEqualTo(2, "the session goes first (an ephemeral one logs out), then the loops");
        web.Server.State.Should().Be(TailnetState.Stopped);
        owned.Concat(web.Server.OwnedTasks()).Should().OnlyContain(t => t.IsCompleted, "no loop or background task outlives the node");
        var up = async () => await web.Server.UpAsync(cts.Token);
        await up.Should().ThrowAsync<ObjectDisposedException>();
    }

    [Fact]
    public async Task Dispose_EndsAPendingUpAsync()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var sessions = new List<FakeControlSession>();
        var server = new TailnetServer(tailnet.Options(sessions));
        var up = server.UpAsync(cts.Token).AsTask();
        var session = await ControlModeStateTests.StartedSessionAsync(sessions, cts.Token);

        await server.DisposeAsync();

        await FluentActions.Awaiting(() => up).Should().ThrowAsync<ObjectDisposedException>();
        session.Disposed.Should().BeTrue();
    }

    [Fact]
    public async Task Dispose_WithAnExpiryTimerArmed_DisposesIt()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new Netstack.ManualTimeProvider();
        await using var tailnet = new FakeTailnet(clock);
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        var timersBefore = clock.ActiveTimers;
        web.KeyExpiry = clock.GetUtcNow().AddHours(1);
        await web.PushFullMapAsync(cts.Token);
        clock.ActiveTimers.Should().Be(timersBefore + 1, "the expiry timer is armed");

        await web.Server.DisposeAsync();

        clock.Advance(TimeSpan.FromHours(2));
        web.Server.State.Should().Be(TailnetState.Stopped, "a disposed node does not expire");
    }
}
