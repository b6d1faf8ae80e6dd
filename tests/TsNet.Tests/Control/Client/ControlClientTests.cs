using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Control.Client;
using TsNet.Control.Protocol;
using TsNet.Control.Session;
using TsNet.Control.State;
using TsNet.Tests.Netstack;
using Seen = TsNet.TestSupport.RecordingControlObserver;

namespace TsNet.Tests.Control.Client;

/// <summary>
/// <see cref="ControlClient"/> against <see cref="FakeControl"/> on a manual clock: register flows, the map stream,
/// reconnects, lite updates, logout and dispose.
/// </summary>
public sealed class ControlClientTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly Uri ControlUrl = new("http://127.0.0.1:9911");

    private readonly ManualTimeProvider _time = new();
    private readonly FakeControl _control = new();
    private readonly Seen _observer = new();
    private readonly DiscoKey _disco = DiscoKey.Generate();
    private readonly string _stateDirectory = Path.Combine(Path.GetTempPath(), "tsnet-cc-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_stateDirectory))
        {
            Directory.Delete(_stateDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task AuthKey_RegistersThenPolls_AndTheObserverGetsAFullUpdate()
    {
        Directory.CreateDirectory(_stateDirectory);
        var context = Context(stateDirectory: _stateDirectory);
        await using var client = Client(context);

        client.Start(_observer);
        var stream = await _control.NextStreamAsync(Bound);
        stream.Send(FakeControl.FullMap(NodeKeyOf(client)));

        (await _observer.WaitForAsync<Seen.ConnectionChanged>(Bound)).Connected.Should().BeTrue();
        var update = (await _observer.WaitForAsync<Seen.NetmapReceived>(Bound)).Update;
        update.IsFull.Should().BeTrue();
        update.Netmap.SelfAddresses.Select(a => a.ToString()).Should().Equal("100.64.0.1", "fd7a:115c:a1e0:ab12:4843:cd96:6240:1");
        update.AllPeers.Should().ContainSingle().Which.NodeKey.Should().Be(TsNet.Tests.Control.Netmap.NetmapJson.Key(0x22));

        var register = _control.Registers.Should().ContainSingle().Subject;
        register.Version.Should().Be(115);
        register.NodeKey.Should().Be(NodeKeyOf(client));
        register.OldNodeKey.Should().BeNull();
        register.Auth!.AuthKey.Should().Be("tskey-test");
        register.Expiry.Should().BeNull();
        register.Hostinfo!.Hostname.Should().Be("cc");
        register.Hostinfo.RequestTags.Should().Equal("tag:web");
        register.Hostinfo.RoutableIPs.Should().Equal("10.1.0.0/16");
        register.Ephemeral.Should().BeFalse();

        var map = stream.Request;
        map.Stream.Should().BeTrue();
        map.KeepAlive.Should().BeTrue();
        map.OmitPeers.Should().BeFalse();
        map.Compress.Should().Be("zstd");
        map.Version.Should().Be(115);
        map.NodeKey.Should().Be(NodeKeyOf(client));
        map.DiscoKey.Should().Be(ControlKeyText.Format(_disco));
        map.Hostinfo!.Hostname.Should().Be("cc");

        ControlStateStore.TryLoad(_stateDirectory, out var saved).Should().BeTrue();
        saved.LoggedIn.Should().BeTrue();
        saved.ControlUrl.Should().Be(ControlUrl.ToString());
        saved.NodeKey.Should().Be(context.State.NodeKey);
    }

    [Fact]
    public async Task RefusedKey_ReportsTheServersText_AndStops()
    {
        _control.AnswerRegister("""{"Error":"invalid authkey","MachineAuthorized":false}""");
        await using var client = Client(Context());

        client.Start(_observer);

        (await _observer.WaitForAsync<Seen.LoginRefused>(Bound)).Message.Should().Be("invalid authkey");
        await client.RunTask!.WaitAsync(Bound);
        _control.Maps.Should().BeEmpty();
        _control.Registers.Should().ContainSingle();
        client.State.LoggedIn.Should().BeFalse();
    }

    [Fact]
    public async Task RegisterAnswered400_IsRefusedWithTheStatusAndText()
    {
        _control.AnswerRegister((_, _) => Task.FromException<string>(
            new ControlHttpException("/machine/register", HttpStatusCode.BadRequest, "unsupported client version: 90")));
        await using var client = Client(Context());

        client.Start(_observer);

        (await _observer.WaitForAsync<Seen.LoginRefused>(Bound)).Message.Should().Be("HTTP 400: unsupported client version: 90");
        await client.RunTask!.WaitAsync(Bound);
    }

    [Fact]
    public async Task RegisterAnswered503_IsRetriedAfterABackoff()
    {
        _control.AnswerRegister((_, _) => Task.FromException<string>(
            new ControlHttpException("/machine/register", HttpStatusCode.ServiceUnavailable, "busy")));
        await using var client = Client(Context());

        client.Start(_observer);

        await WaitUntilAsync(() => _control.HasUnclaimedStream, "a map poll after the retried register");
        _control.Registers.Should().HaveCount(2);
        _control.Connects.Should().Be(2);
    }

    [Fact]
    public async Task Interactive_ReportsTheAuthUrl_ThenFollowsUpUntilAuthorized()
    {
        const string AuthUrl = "http://127.0.0.1:9911/auth/0123456789abcdef0123456789abcdef01234567";
        var completed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _control.AnswerRegister($$"""{"AuthURL":"{{AuthUrl}}","MachineAuthorized":false}""");
        _control.AnswerRegister((_, cancellationToken) => completed.Task.WaitAsync(cancellationToken)); // the follow-up long poll
        await using var client = Client(Context(authKey: null));

        client.Start(_observer);

        (await _observer.WaitForAsync<Seen.LoginRequired>(Bound)).AuthUrl.Should().Be(new Uri(AuthUrl));
        await WaitUntilAsync(() => _control.Registers.Count == 2, "the follow-up");
        var followup = _control.Registers[1];
        followup.Followup.Should().Be(AuthUrl);
        followup.NodeKey.Should().Be(_control.Registers[0].NodeKey);
        followup.Auth.Should().BeNull();
        _control.Maps.Should().BeEmpty("no map before the login completed");

        completed.SetResult(FakeControl.Authorized);
        var stream = await _control.NextStreamAsync(Bound);
        stream.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);
        _control.Registers[0].Auth.Should().BeNull();
        client.State.LoggedIn.Should().BeTrue();
    }

    [Fact]
    public async Task StoredLogin_RegistersWithoutTheAuthKeyFirst()
    {
        var state = NewState() with { LoggedIn = true, ControlUrl = ControlUrl.ToString() };
        await using var client = Client(Context(state: state));

        client.Start(_observer);
        var stream = await _control.NextStreamAsync(Bound);

        _control.Registers.Should().ContainSingle().Which.Auth.Should().BeNull("a stored login needs no key");
        stream.Request.NodeKey.Should().Be(ControlRequests.NodeKeyText(state.NodeKey));
    }

    [Fact]
    public async Task StoredLogin_NotAccepted_FallsBackToTheAuthKey()
    {
        var state = NewState() with { LoggedIn = true, ControlUrl = ControlUrl.ToString() };
        _control.AnswerRegister("""{"AuthURL":"http://127.0.0.1:9911/auth/00","MachineAuthorized":false}""");
        await using var client = Client(Context(state: state));

        client.Start(_observer);
        await _control.NextStreamAsync(Bound);

        _control.Registers.Select(r => r.Auth?.AuthKey).Should().Equal(null, "tskey-test");
        _observer.HasPending.Should().BeFalse("nothing is reported for a stored login that the key replaced");
    }

    [Fact]
    public async Task StoredLogin_ForAnotherServer_UsesTheAuthKey()
    {
        var state = NewState() with { LoggedIn = true, ControlUrl = "https://other.example.com/" };
        await using var client = Client(Context(state: state));

        client.Start(_observer);
        await _control.NextStreamAsync(Bound);

        _control.Registers.Should().ContainSingle().Which.Auth!.AuthKey.Should().Be("tskey-test");
    }

    [Fact]
    public async Task ServerForgotTheNode_RegistersAgainWithTheKey()
    {
        var state = NewState() with { LoggedIn = true, ControlUrl = ControlUrl.ToString() };
        await using var client = Client(Context(state: state));
        client.Start(_observer);
        var first = await _control.NextStreamAsync(Bound);
        first.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);

        // The server deleted the node: it closes the stream, and the next poll gets 400 "node not found".
        _control.FailNextMap(new ControlHttpException("/machine/map", HttpStatusCode.BadRequest, "node not found"));
        first.End();

        var down = await _observer.WaitForAsync<Seen.ConnectionChanged>(Bound);
        down.Connected.Should().BeFalse();
        down.Error.Should().BeOfType<IOException>();
        await WaitUntilAsync(() => _control.HasUnclaimedStream, "a map poll after registering again");
        var second = await _control.NextStreamAsync(Bound);
        second.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);

        _control.Registers.Select(r => r.Auth?.AuthKey).Should().Equal(null, "tskey-test");
        _control.Maps.Should().HaveCount(3);
        _control.DisposedChannels.Should().Be(2, "each reconnect makes a new channel and drops the old one");
    }

    [Fact]
    public async Task NewServerKey_OnReconnect_RegistersAgain()
    {
        await using var client = Client(Context());
        client.Start(_observer);
        var first = await _control.NextStreamAsync(Bound);
        first.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);

        _control.ServerKey = TsNet.Control.Transport.MachinePrivateKey.Generate().PublicKey;
        first.End();
        await WaitUntilAsync(() => _control.HasUnclaimedStream, "a map poll on the restarted server");

        _control.Registers.Should().HaveCount(2);
        _control.Connects.Should().Be(2);
    }

    [Fact]
    public async Task SameServerKey_OnReconnect_PollsWithoutRegistering()
    {
        await using var client = Client(Context());
        client.Start(_observer);
        var first = await _control.NextStreamAsync(Bound);
        first.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);

        first.End();
        await WaitUntilAsync(() => _control.HasUnclaimedStream, "a new map poll");

        _control.Registers.Should().ContainSingle();
        _control.Connects.Should().Be(2, "every reconnect fetches /key again");
    }

    [Fact]
    public async Task Stall_WithoutFrames_DropsTheStreamAndReconnects()
    {
        await using var client = Client(Context());
        client.Start(_observer);
        var first = await _control.NextStreamAsync(Bound);
        first.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);

        // Keep-alives keep it alive: 100 s, keep-alive, 100 s more is past 2 min in total but not since the last frame.
        await WaitUntilAsync(() => first.FramesProcessed == 1, "the map processed", advanceClock: false);
        _time.Advance(TimeSpan.FromSeconds(100));
        first.SendKeepAlive();
        await WaitUntilAsync(() => first.FramesProcessed == 2, "the keep-alive processed", advanceClock: false);
        _time.Advance(TimeSpan.FromSeconds(100));
        _control.HasUnclaimedStream.Should().BeFalse();
        first.Disposed.IsCompleted.Should().BeFalse();

        _time.Advance(TimeSpan.FromSeconds(21));

        var down = await _observer.WaitForAsync<Seen.ConnectionChanged>(Bound);
        down.Connected.Should().BeFalse();
        down.Error.Should().BeOfType<TimeoutException>();
        await first.Disposed.WaitAsync(Bound);
        await WaitUntilAsync(() => _control.HasUnclaimedStream, "a new map poll after the stall");
        _control.Registers.Should().ContainSingle();
    }

    [Fact]
    public async Task SlowNetmapApplication_IsNotAStall()
    {
        await using var client = Client(Context());
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _observer.NetmapGate = gate;
        client.Start(_observer);
        var first = await _control.NextStreamAsync(Bound);
        first.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);

        // The node holds the map for 3 minutes (back-pressure): the session waits, the stream stays.
        _time.Advance(TimeSpan.FromMinutes(3));
        _observer.NetmapGate = null;
        gate.SetResult();
        first.SendKeepAlive();
        await WaitUntilAsync(() => first.FramesProcessed == 2, "the keep-alive processed after the node took the map", advanceClock: false);

        first.Disposed.IsCompleted.Should().BeFalse();
        _control.HasUnclaimedStream.Should().BeFalse();
        _observer.HasPending.Should().BeFalse("no connection change");
    }

    [Fact]
    public async Task BadFrame_ReconnectsInsteadOfFaulting()
    {
        await using var client = Client(Context());
        client.Start(_observer);
        var first = await _control.NextStreamAsync(Bound);
        first.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);

        first.SendRaw("{\"Node\":{\"ID\":"u8.ToArray());

        var down = await _observer.WaitForAsync<Seen.ConnectionChanged>(Bound);
        down.Error.Should().BeOfType<ControlProtocolException>();
        await WaitUntilAsync(() => _control.HasUnclaimedStream, "a new map poll after the bad frame");
        var second = await _control.NextStreamAsync(Bound);
        second.Send(FakeControl.FullMap(NodeKeyOf(client)));
        (await _observer.WaitForAsync<Seen.ConnectionChanged>(Bound)).Connected.Should().BeTrue();
        _observer.Seen.OfType<Seen.Faulted>().Should().BeEmpty();
    }

    [Fact]
    public async Task ConnectFailures_BackOffAndRetry()
    {
        _control.ConnectError = new HttpRequestException("connection refused");
        await using var client = Client(Context());
        client.Start(_observer);
        await WaitUntilAsync(() => _control.Connects >= 1, "a first connect");

        // The first retry comes within the first step (1 s), the next ones later; nothing happens without time passing.
        var before = _control.Connects;
        _control.ConnectError = null;
        await WaitUntilAsync(() => _control.HasUnclaimedStream, "a map poll once the server is back");
        before.Should().Be(1);
        _observer.Seen.OfType<Seen.ConnectionChanged>().Should().BeEmpty("the stream was never up");
    }

    [Fact]
    public async Task FullMaps_WithoutPeers_MeanNoPeers_UntilTheServerSendsDeltas()
    {
        await using var client = Client(Context());
        client.Start(_observer);
        var stream = await _control.NextStreamAsync(Bound);
        var self = NodeKeyOf(client);
        stream.Send(FakeControl.FullMap(self));
        (await _observer.WaitForAsync<Seen.NetmapReceived>(Bound)).Update.Netmap.Peers.Should().HaveCount(1);

        // The Go test server leaves out an empty Peers: a whole map (Node with Domain, DERPMap, ...) with no peers.
        stream.Send($$$"""{"Node":{"ID":1,"Name":"cc.tail.test.","User":1,"Key":"{{{self}}}","Addresses":["100.64.0.1/32"]},"Domain":"tail.test"}""");
        (await _observer.WaitForAsync<Seen.NetmapReceived>(Bound)).Update.Netmap.Peers.Should().BeEmpty();

        // A delta server: after its first delta, a self-node change leaves the peers alone.
        stream.Send($$"""{"PeersChanged":[{{TsNet.Tests.Control.Netmap.NetmapJson.Peer(3, 0x33, "peer3.tail.test.", 3)}}]}""");
        (await _observer.WaitForAsync<Seen.NetmapReceived>(Bound)).Update.Netmap.Peers.Should().ContainSingle();
        stream.Send($$$"""{"Node":{"ID":1,"Name":"cc.tail.test.","User":1,"Key":"{{{self}}}","Addresses":["100.64.0.1/32"],"Online":true}}""");
        var afterSelf = (await _observer.WaitForAsync<Seen.NetmapReceived>(Bound)).Update;
        afterSelf.Netmap.Peers.Should().ContainSingle().Which.ID.Should().Be(3);
        afterSelf.SelfChanged.Should().BeTrue();
    }

    [Fact]
    public async Task EndpointChange_SendsALiteUpdate_AndTheNextPollCarriesIt()
    {
        await using var client = Client(Context());
        client.Start(_observer);
        var first = await _control.NextStreamAsync(Bound);
        first.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);
        first.Request.Endpoints.Should().BeEmpty();

        client.UpdateEndpoints([IPEndPoint.Parse("192.0.2.10:41641"), IPEndPoint.Parse("[2001:db8::1]:41641")]);

        await WaitUntilAsync(() => _control.Lites.Count == 1, "a lite update");
        var lite = _control.Lites[0];
        lite.Stream.Should().BeFalse();
        lite.OmitPeers.Should().BeTrue();
        lite.Endpoints.Should().Equal("192.0.2.10:41641", "[2001:db8::1]:41641");
        lite.NodeKey.Should().Be(NodeKeyOf(client));
        lite.DiscoKey.Should().Be(ControlKeyText.Format(_disco));
        lite.Hostinfo!.Hostname.Should().Be("cc");

        // The same list again sends nothing; a different one does.
        client.UpdateEndpoints([IPEndPoint.Parse("192.0.2.10:41641"), IPEndPoint.Parse("[2001:db8::1]:41641")]);
        client.UpdateEndpoints([IPEndPoint.Parse("192.0.2.11:41641")]);
        await WaitUntilAsync(() => _control.Lites.Count >= 2, "a second lite update");
        _control.Lites.Select(l => l.Endpoints!.Count).Should().Equal(2, 1);

        first.End();
        await WaitUntilAsync(() => _control.HasUnclaimedStream, "a new map poll");
        (await _control.NextStreamAsync(Bound)).Request.Endpoints.Should().Equal("192.0.2.11:41641");
    }

    [Fact]
    public async Task DerpLatencies_RideWithTheNextHomeChange_AndAloneSendNothing()
    {
        await using var client = Client(Context());
        client.Start(_observer);
        var first = await _control.NextStreamAsync(Bound);
        first.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);
        first.Request.Hostinfo!.NetInfo.Should().BeNull("nothing measured yet");

        client.UpdateDerpLatencies(new Dictionary<int, TimeSpan> { [1] = TimeSpan.FromMilliseconds(4), [2] = TimeSpan.FromMilliseconds(30) });
        client.UpdateHomeDerp(1);

        await WaitUntilAsync(() => _control.Lites.Count == 1, "a lite update for the home change");
        var netInfo = _control.Lites[0].Hostinfo!.NetInfo!;
        netInfo.PreferredDERP.Should().Be(1);
        netInfo.DERPLatency.Should().BeEquivalentTo(new Dictionary<string, double> { ["1-v4"] = 0.004, ["2-v4"] = 0.03 });

        // New latencies alone: no lite update (they change with every report); the next poll carries them.
        client.UpdateDerpLatencies(new Dictionary<int, TimeSpan> { [1] = TimeSpan.FromMilliseconds(5) });
        first.End();
        await WaitUntilAsync(() => _control.HasUnclaimedStream, "a new map poll");
        var next = (await _control.NextStreamAsync(Bound)).Request.Hostinfo!.NetInfo!;
        next.PreferredDERP.Should().Be(1);
        next.DERPLatency.Should().BeEquivalentTo(new Dictionary<string, double> { ["1-v4"] = 0.005 });
        _control.Lites.Should().HaveCount(1);
    }

    [Fact]
    public async Task NodeKeyExpiredOnRegister_RotatesTheKey_AndRegistersTheNewOne()
    {
        Directory.CreateDirectory(_stateDirectory);
        var context = Context(stateDirectory: _stateDirectory);
        _control.AnswerRegister("""{"NodeKeyExpired":true,"MachineAuthorized":true}""");
        await using var client = Client(context);

        client.Start(_observer);

        var changed = await _observer.WaitForAsync<Seen.NodeKeyChanged>(Bound);
        changed.NodeKey.Should().NotBe(context.State.NodeKey);
        await _control.NextStreamAsync(Bound);
        var second = _control.Registers[1];
        second.NodeKey.Should().Be(ControlRequests.NodeKeyText(changed.NodeKey));
        second.OldNodeKey.Should().Be(ControlRequests.NodeKeyText(context.State.NodeKey));
        second.Auth!.AuthKey.Should().Be("tskey-test");
        ControlStateStore.TryLoad(_stateDirectory, out var saved).Should().BeTrue();
        saved.NodeKey.Should().Be(changed.NodeKey);
        saved.OldNodeKey.Should().BeNull("the rotation is complete once the server took the new key");
    }

    [Fact]
    public async Task SelfKeyExpiredInTheMap_RotatesAndRegistersAgain()
    {
        var context = Context();
        await using var client = Client(context);
        client.Start(_observer);
        var first = await _control.NextStreamAsync(Bound);

        first.Send(FakeControl.FullMap(NodeKeyOf(client), keyExpiry: "2025-12-31T23:00:00Z"));

        var changed = await _observer.WaitForAsync<Seen.NodeKeyChanged>(Bound);
        changed.NodeKey.Should().NotBe(context.State.NodeKey);
        await WaitUntilAsync(() => _control.HasUnclaimedStream, "a map poll with the new key");
        (await _control.NextStreamAsync(Bound)).Request.NodeKey.Should().Be(ControlRequests.NodeKeyText(changed.NodeKey));
        _control.Registers.Should().HaveCount(2);
    }

    [Fact]
    public async Task SelfKeyExpiry_InTheFuture_RenewsWhenTheLocalClockPassesIt()
    {
        var context = Context();
        await using var client = Client(context);
        client.Start(_observer);
        var first = await _control.NextStreamAsync(Bound);

        // The manual clock starts at 2026-01-01T00:00:00Z; the key expires an hour later.
        first.Send(FakeControl.FullMap(NodeKeyOf(client), keyExpiry: "2026-01-01T01:00:00Z"));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);

        // The clock stands still until the session armed its timers for that map (its expiry timer included).
        await WaitUntilAsync(() => first.FramesProcessed == 1, "the map processed", advanceClock: false);

        // 58.5 minutes with a keep-alive every minute (the stall watchdog stays quiet): the key is still valid.
        for (var minute = 1; minute <= 58; minute++)
        {
            _time.Advance(TimeSpan.FromMinutes(1));
            first.SendKeepAlive();
            await WaitUntilAsync(() => first.FramesProcessed == minute + 1, "the keep-alive processed", advanceClock: false);
        }

        _time.Advance(TimeSpan.FromSeconds(30));
        first.SendKeepAlive();
        await WaitUntilAsync(() => first.FramesProcessed == 60, "the last keep-alive processed", advanceClock: false);

        _control.Registers.Should().ContainSingle("the key is still valid");
        _observer.HasPending.Should().BeFalse();

        _time.Advance(TimeSpan.FromMinutes(2));

        var changed = await _observer.WaitForAsync<Seen.NodeKeyChanged>(Bound);
        changed.NodeKey.Should().NotBe(context.State.NodeKey);
        await WaitUntilAsync(() => _control.HasUnclaimedStream, "a map poll with the new key");
        _control.Registers[1].OldNodeKey.Should().Be(ControlRequests.NodeKeyText(context.State.NodeKey));
    }

    [Fact]
    public async Task Logout_ExpiresTheKeyOnTheServer_ClearsTheLogin_AndStops()
    {
        Directory.CreateDirectory(_stateDirectory);
        var context = Context(stateDirectory: _stateDirectory);
        await using var client = Client(context);
        client.Start(_observer);
        var stream = await _control.NextStreamAsync(Bound);
        stream.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);
        var task = client.RunTask!;

        await client.LogoutAsync(CancellationToken.None).WaitAsync(Bound);

        var logout = _control.Registers[^1];
        logout.Expiry.Should().Be(DateTimeOffset.FromUnixTimeSeconds(123));
        logout.NodeKey.Should().Be(ControlRequests.NodeKeyText(context.State.NodeKey));
        logout.Auth.Should().BeNull();
        var changed = await _observer.WaitForAsync<Seen.NodeKeyChanged>(Bound);
        changed.NodeKey.Should().NotBe(context.State.NodeKey);
        client.State.LoggedIn.Should().BeFalse();
        ControlStateStore.TryLoad(_stateDirectory, out var saved).Should().BeTrue();
        saved.LoggedIn.Should().BeFalse();
        saved.NodeKey.Should().Be(changed.NodeKey);
        task.IsCompleted.Should().BeTrue();
        client.RunTask.Should().BeNull();
        stream.Disposed.IsCompleted.Should().BeTrue();
    }

    [Fact]
    public async Task Logout_WhileALoginIsPending_SendsNothing_AndClearsTheKey()
    {
        _control.AnswerRegister("""{"AuthURL":"http://127.0.0.1:9911/auth/01","MachineAuthorized":false}""");
        _control.AnswerRegister(async (_, cancellationToken) =>
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return FakeControl.Authorized;
        });
        var context = Context(authKey: null);
        await using var client = Client(context);
        client.Start(_observer);
        await _observer.WaitForAsync<Seen.LoginRequired>(Bound);
        await WaitUntilAsync(() => _control.Registers.Count == 2, "the follow-up");

        await client.LogoutAsync(CancellationToken.None).WaitAsync(Bound);

        _control.Registers.Should().HaveCount(2, "no logout request for a node the server never authorized");
        (await _observer.WaitForAsync<Seen.NodeKeyChanged>(Bound)).NodeKey.Should().NotBe(context.State.NodeKey);
        client.RunTask.Should().BeNull();
    }

    [Fact]
    public async Task Logout_Refused_Throws_AndTheSessionKeepsRunning()
    {
        await using var client = Client(Context());
        client.Start(_observer);
        var stream = await _control.NextStreamAsync(Bound);
        stream.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);
        _control.AnswerRegister("""{"Error":"logout not allowed"}""");

        await FluentActions.Awaiting(() => client.LogoutAsync(CancellationToken.None).WaitAsync(Bound))
            .Should().ThrowAsync<TailnetLoginException>().WithMessage("*logout not allowed*");

        client.RunTask.Should().NotBeNull();
        await WaitUntilAsync(() => _control.HasUnclaimedStream, "the session polling again");
    }

    [Fact]
    public async Task Dispose_MidPoll_StopsTheTaskAndDropsTheConnection()
    {
        var client = Client(Context());
        client.Start(_observer);
        var stream = await _control.NextStreamAsync(Bound);
        stream.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);
        var task = client.RunTask!;

        await client.DisposeAsync().AsTask().WaitAsync(Bound);

        task.IsCompleted.Should().BeTrue();
        client.RunTask.Should().BeNull();
        stream.Disposed.IsCompleted.Should().BeTrue();
        _control.DisposedChannels.Should().Be(_control.Connects);
        _control.Registers.Should().ContainSingle("a non-ephemeral node is not logged out by dispose");
        _observer.HasPending.Should().BeFalse("dispose reports nothing");
        await client.DisposeAsync();
    }

    [Fact]
    public async Task Dispose_WhileTheNodeHoldsANetmap_CancelsTheObserversWait()
    {
        var client = Client(Context());
        _observer.NetmapGate = new TaskCompletionSource();
        client.Start(_observer);
        var stream = await _control.NextStreamAsync(Bound);
        stream.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);
        var task = client.RunTask!;

        await client.DisposeAsync().AsTask().WaitAsync(Bound);

        task.IsCompleted.Should().BeTrue();
    }

    [Fact]
    public async Task EphemeralDispose_LogsOutFirst()
    {
        var client = Client(Context(ephemeral: true));
        client.Start(_observer);
        var stream = await _control.NextStreamAsync(Bound);
        stream.Send(FakeControl.FullMap(NodeKeyOf(client)));
        await _observer.WaitForAsync<Seen.NetmapReceived>(Bound);

        await client.DisposeAsync().AsTask().WaitAsync(Bound);

        _control.Registers.Should().HaveCount(2);
        _control.Registers[0].Ephemeral.Should().BeTrue();
        _control.Registers[1].Expiry.Should().Be(RegisterRequest.LogoutExpiry);
        _control.DisposedChannels.Should().Be(_control.Connects);
    }

    [Fact]
    public async Task BrokenStateDirectory_FaultsTheSession()
    {
        // A file where the directory should be: saving the login fails.
        File.WriteAllText(_stateDirectory, "not a directory");
        try
        {
            await using var client = Client(Context(stateDirectory: _stateDirectory));

            client.Start(_observer);

            var fault = await _observer.WaitForAsync<Seen.Faulted>(Bound);
            fault.Error.Message.Should().Contain(_stateDirectory);
            await client.RunTask!.WaitAsync(Bound);
        }
        finally
        {
            File.Delete(_stateDirectory);
        }
    }

    [Fact]
    public async Task Start_Twice_Throws()
    {
        await using var client = Client(Context());
        client.Start(_observer);

        client.Invoking(c => c.Start(_observer)).Should().Throw<InvalidOperationException>();
    }

    private static ControlState NewState() => new() { MachineKey = WireGuardKey.Generate(), NodeKey = WireGuardKey.Generate() };

    private static string NodeKeyOf(ControlClient client) => ControlRequests.NodeKeyText(client.State.NodeKey);

    private ControlSessionContext Context(string? authKey = "tskey-test", ControlState? state = null, string? stateDirectory = null, bool ephemeral = false) => new()
    {
        ControlUrl = ControlUrl,
        State = state ?? NewState(),
        StateDirectory = stateDirectory,
        AuthKey = authKey,
        Hostname = "cc",
        Ephemeral = ephemeral,
        AdvertiseTags = ["tag:web"],
        AdvertiseRoutes = [IPNetwork.Parse("10.1.0.0/16")],
        CapabilityVersion = 115,
        DiscoPublicKey = _disco,
        TimeProvider = _time,
        LoggerFactory = NullLoggerFactory.Instance,
    };

    private ControlClient Client(ControlSessionContext context) => new(context, _control.Connector, new ControlBackoff(random: new Random(1)));

    /// <summary>
    /// Waits for <paramref name="condition"/>, bounded in real time; with <paramref name="advanceClock"/> the manual clock
    /// moves on in small steps meanwhile (so backoff waits end; the steps are far below the 2-minute stall timeout).
    /// </summary>
    private async Task WaitUntilAsync(Func<bool> condition, string what, bool advanceClock = true)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Bound)
            {
                throw new TimeoutException($"not {what} within {Bound.TotalSeconds:0} s");
            }

            if (advanceClock)
            {
                _time.Advance(TimeSpan.FromMilliseconds(100));
            }

            await Task.Delay(2);
        }
    }
}
