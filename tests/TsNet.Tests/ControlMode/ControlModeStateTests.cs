using System.Threading.Channels;
using TsNet.Tests.Netstack;

namespace TsNet.Tests.ControlMode;

/// <summary>The control-mode state machine: Starting, NeedsLogin, Running, Expired, refused, faulted, logout, dispose.</summary>
public sealed class ControlModeStateTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task StateSequence_StartingNeedsLoginRunning_UpAsyncCompletesAtRunning()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var sessions = new List<FakeControlSession>();
        await using var server = new TailnetServer(tailnet.Options(sessions));
        var events = Record(server);
        server.State.Should().Be(TailnetState.Stopped);

        var up = server.UpAsync(cts.Token).AsTask();
        var session = await StartedSessionAsync(sessions, cts.Token);

        (await events.ReadAsync(cts.Token)).State.Should().Be(TailnetState.Starting);
        server.State.Should().Be(TailnetState.Starting);
        var authUrl = new Uri("http://control.test/a/0123456789");
        session.Observer.OnLoginRequired(authUrl);
        var needsLogin = await events.ReadAsync(cts.Token);
        needsLogin.State.Should().Be(TailnetState.NeedsLogin);
        needsLogin.AuthUrl.Should().Be(authUrl);
        server.AuthUrl.Should().Be(authUrl);
        up.IsCompleted.Should().BeFalse("UpAsync waits while a login is pending");

        var node = new FakeNode(tailnet, "solo", 1, server, session, []);
        await node.PushFullMapAsync(cts.Token);
        await up;

        server.State.Should().Be(TailnetState.Running);
        server.AuthUrl.Should().BeNull();
        server.DnsName.Should().Be("solo.tail.test");
        (await events.ReadAsync(cts.Token)).State.Should().Be(TailnetState.Running);
        await server.UpAsync(cts.Token); // Running: completes at once
        session.StartCalls.Should().Be(1);
    }

    [Fact]
    public async Task StartAsync_DoesNotWaitForRunning()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var sessions = new List<FakeControlSession>();
        await using var server = new TailnetServer(tailnet.Options(sessions));

        await server.StartAsync(cts.Token);

        server.State.Should().Be(TailnetState.Starting);
        sessions.Should().ContainSingle().Which.StartCalls.Should().Be(1);
        server.Addresses.Should().BeEmpty();
    }

    [Fact]
    public async Task RefusedLogin_UpAsyncThrowsTheServersMessage_AndStateIsStopped()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var sessions = new List<FakeControlSession>();
        await using var server = new TailnetServer(tailnet.Options(sessions));
        var events = Record(server);
        var up = server.UpAsync(cts.Token).AsTask();
        var session = await StartedSessionAsync(sessions, cts.Token);

        session.Observer.OnLoginRefused("invalid key: unable to validate API key");

        (await FluentActions.Awaiting(() => up).Should().ThrowAsync<TailnetLoginException>())
            .Which.Message.Should().Be("invalid key: unable to validate API key");
        server.State.Should().Be(TailnetState.Stopped);
        var later = async () => await server.UpAsync(cts.Token);
        await later.Should().ThrowAsync<TailnetLoginException>("the refusal stands");
        (await events.ReadAsync(cts.Token)).State.Should().Be(TailnetState.Starting);
        var stopped = await events.ReadAsync(cts.Token);
        stopped.State.Should().Be(TailnetState.Stopped);
        stopped.Exception.Should().BeOfType<TailnetLoginException>();
    }

    [Fact]
    public async Task SessionFault_FaultsTheNode_UpAsyncThrowsIt()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var sessions = new List<FakeControlSession>();
        await using var server = new TailnetServer(tailnet.Options(sessions));
        var up = server.UpAsync(cts.Token).AsTask();
        var session = await StartedSessionAsync(sessions, cts.Token);
        var cause = new InvalidDataException("control.json is broken");

        session.Observer.OnSessionFaulted(cause);

        (await FluentActions.Awaiting(() => up).Should().ThrowAsync<InvalidOperationException>()).Which.InnerException.Should().BeSameAs(cause);
        server.State.Should().Be(TailnetState.Faulted);
        server.GetStatus().Fault.Should().Contain("control.json is broken");
    }

    [Fact]
    public async Task UpAsync_IsCancellable_WhileWaitingForRunning()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var sessions = new List<FakeControlSession>();
        await using var server = new TailnetServer(tailnet.Options(sessions));
        await server.StartAsync(cts.Token);
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);

        var up = server.UpAsync(giveUp.Token).AsTask();
        await giveUp.CancelAsync();

        await FluentActions.Awaiting(() => up).Should().ThrowAsync<OperationCanceledException>();
        server.State.Should().Be(TailnetState.Starting);
    }

    [Fact]
    public async Task SelfKeyExpiry_OnTheLocalClock_MakesTheNodeExpired_ANewExpiryRunsAgain()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new ManualTimeProvider();
        await using var tailnet = new FakeTailnet(clock);
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        var events = Record(web.Server);
        web.KeyExpiry = clock.GetUtcNow().AddHours(1);
        await web.PushFullMapAsync(cts.Token);
        web.Server.State.Should().Be(TailnetState.Running);
        (await events.ReadAsync(cts.Token)).State.Should().Be(TailnetState.Running);

        clock.Advance(TimeSpan.FromMinutes(59));
        web.Server.State.Should().Be(TailnetState.Running);
        clock.Advance(TimeSpan.FromMinutes(2));

        web.Server.State.Should().Be(TailnetState.Expired);
        (await events.ReadAsync(cts.Token)).State.Should().Be(TailnetState.Expired);
        var up = web.Server.UpAsync(cts.Token).AsTask();
        up.IsCompleted.Should().BeFalse("an expired node is not Running");

        web.KeyExpiry = clock.GetUtcNow().AddDays(90);
        await web.PushFullMapAsync(cts.Token);

        await up;
        web.Server.State.Should().Be(TailnetState.Running);
    }

    [Fact]
    public async Task ExpiredAlready_InTheFirstMap_IsExpired()
    {
        using var cts = new CancellationTokenSource(Bound);
        var clock = new ManualTimeProvider();
        await using var tailnet = new FakeTailnet(clock);
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        web.KeyExpiry = clock.GetUtcNow().AddSeconds(-1);

        await web.PushFullMapAsync(cts.Token);

        web.Server.State.Should().Be(TailnetState.Expired);
    }

    [Fact]
    public async Task NodeKeyChange_FromTheSession_BecomesThePublicKey()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        var key = WireGuardKey.Generate();

        await web.Session.Observer.OnNodeKeyChangedAsync(key, cts.Token);

        web.Server.PublicKey.Should().Be(key.PublicKey);
        (await web.Server.InspectAsync(core => new WireGuardKey(core.PublicKey), cts.Token)).Should().Be(key.PublicKey);
    }

    [Fact]
    public async Task Logout_LogsTheSessionOut_DropsPeersAndAddresses_AndNeedsLogin()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var web = await tailnet.AddNodeAsync("web", 1, cts.Token);
        await tailnet.AddNodeAsync("db", 2, cts.Token);
        await tailnet.SyncAsync(cts.Token);
        web.Server.GetStatus().Peers.Should().ContainSingle();

        await web.Server.LogoutAsync(cts.Token);

        web.Session.LoggedOut.Should().BeTrue();
        web.Server.State.Should().Be(TailnetState.NeedsLogin);
        web.Server.AuthUrl.Should().BeNull();
        web.Server.Addresses.Should().BeEmpty();
        web.Server.DnsName.Should().BeNull();
        web.Server.GetStatus().Peers.Should().BeEmpty();
        (await web.Server.InspectAsync(core => core.Peers.Count(), cts.Token)).Should().Be(0);
        var up = web.Server.UpAsync(cts.Token).AsTask();
        up.IsCompleted.Should().BeFalse("after logout the node waits for a new login");
    }

    [Fact]
    public async Task Logout_InStaticModeOrBeforeStart_Throws()
    {
        await using var staticNode = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { System.Net.IPNetwork.Parse("100.64.0.1/32") },
        });
        var staticLogout = async () => await staticNode.LogoutAsync();
        await staticLogout.Should().ThrowAsync<InvalidOperationException>().WithMessage("*control mode*");

        await using var tailnet = new FakeTailnet();
        await using var controlNode = new TailnetServer(tailnet.Options([]));
        var early = async () => await controlNode.LogoutAsync();
        await early.Should().ThrowAsync<InvalidOperationException>().WithMessage("*not started*");
    }

    [Fact]
    public async Task StaticMode_IsRunningAfterStart_AndStoppedAfterDispose()
    {
        using var cts = new CancellationTokenSource(Bound);
        using var hub = new TsNet.Underlay.InMemoryUnderlayHub(TimeProvider.System);
        var server = new TailnetServer(new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { System.Net.IPNetwork.Parse("100.64.0.1/32") },
            TestHooks = new TailnetTestHooks { InMemoryUnderlay = hub },
        });
        var events = Record(server);

        await server.UpAsync(cts.Token);

        server.State.Should().Be(TailnetState.Running);
        await server.DisposeAsync();
        server.State.Should().Be(TailnetState.Stopped);
        (await events.ReadAsync(cts.Token)).State.Should().Be(TailnetState.Running);
        (await events.ReadAsync(cts.Token)).State.Should().Be(TailnetState.Stopped);
    }

    internal static ChannelReader<TailnetStateChangedEventArgs> Record(TailnetServer server)
    {
        var events = Channel.CreateUnbounded<TailnetStateChangedEventArgs>();
        server.StateChanged += (_, e) => events.Writer.TryWrite(e);
        return events.Reader;
    }

    internal static async Task<FakeControlSession> StartedSessionAsync(List<FakeControlSession> sessions, CancellationToken cancellationToken)
    {
        while (true)
        {
            FakeControlSession? session = null;
            lock (sessions)
            {
                if (sessions.Count > 0)
                {
                    session = sessions[0];
                }
            }

            if (session is not null)
            {
                await session.Started.WaitAsync(cancellationToken);
                return session;
            }

            await Task.Delay(10, cancellationToken);
        }
    }
}
