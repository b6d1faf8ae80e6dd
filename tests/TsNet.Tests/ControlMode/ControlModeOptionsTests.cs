using System.Net;
using System.Reflection;
using TsNet.Control.State;

namespace TsNet.Tests.ControlMode;

/// <summary>Control-mode options: what is an error, what is defaulted, what the session is given.</summary>
public sealed class ControlModeOptionsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public static TheoryData<string, string> Errors => new()
    {
        { "peers", "TailnetServerOptions.Peers" },
        { "addresses", "TailnetServerOptions.Addresses" },
        { "private-key", "TailnetServerOptions.PrivateKey" },
        { "no-state", "TailnetServerOptions.StateDirectory" },
        { "capver-120", "peer-relay" },
        { "capver-112", "TailnetServerOptions.CapabilityVersion 112" },
        { "ftp", "TailnetServerOptions.ControlUrl" },
        { "relative", "TailnetServerOptions.ControlUrl" },
        { "tag", "TailnetServerOptions.AdvertiseTags: 'web'" },
        { "hostname", "TailnetServerOptions.Hostname" },
        { "mtu", "TailnetServerOptions.Mtu 1200" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void InvalidControlModeOptions_AreArgumentExceptions_NamingTheSetting(string broken, string named)
    {
        var options = new TailnetServerOptions { ControlUrl = new Uri("https://control.test"), Ephemeral = true };
        switch (broken)
        {
            case "peers":
                options.Peers.Add(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey });
                break;
            case "addresses":
                options.Addresses.Add(IPNetwork.Parse("100.64.0.1/32"));
                break;
            case "private-key":
                options.PrivateKey = WireGuardKey.Generate();
                break;
            case "no-state":
                options.Ephemeral = false;
                break;
            case "capver-120":
                options.CapabilityVersion = 120;
                break;
            case "capver-112":
                options.CapabilityVersion = 112;
                break;
            case "ftp":
                options.ControlUrl = new Uri("ftp://control.test");
                break;
            case "relative":
                options.ControlUrl = new Uri("control.test", UriKind.Relative);
                break;
            case "tag":
                options.AdvertiseTags.Add("web");
                break;
            case "hostname":
                options.Hostname = " ";
                break;
            case "mtu":
                options.Mtu = 1200;
                break;
        }

        var create = () => new TailnetServer(options);

        create.Should().Throw<ArgumentException>().Which.Message.Should().Contain(named);
    }

    [Theory]
    [InlineData(113)]
    [InlineData(115)]
    [InlineData(119)]
    public async Task CapabilityVersions113To119_AreAccepted(int version)
    {
        await using var server = new TailnetServer(new TailnetServerOptions { ControlUrl = new Uri("https://control.test"), Ephemeral = true, CapabilityVersion = version });
        server.State.Should().Be(TailnetState.Stopped);
    }

    [Theory]
    [InlineData("TsNet.Tool", "tsnet-tool")]
    [InlineData("My_App Server", "my-app-server")]
    [InlineData("--Web--", "web")]
    [InlineData("über", "ber")]
    [InlineData("...", "tsnet")]
    [InlineData(null, "tsnet")]
    public void Hostname_IsSanitisedLikeGoTsnet(string? name, string expected) =>
        OptionsValidation.SanitizeHostname(name).Should().Be(expected);

    [Fact]
    public void Hostname_IsCutToOneDnsLabel() =>
        OptionsValidation.SanitizeHostname(new string('a', 70)).Should().Be(new string('a', 63));

    [Fact]
    public async Task Session_GetsTheSettings_TheNodeKeyIsThePublicKey_AndTheDefaultHostnameIsTheProgramsName()
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var tailnet = new FakeTailnet();
        var sessions = new List<FakeControlSession>();
        var options = tailnet.Options(sessions);
        options.AdvertiseTags.Add("tag:web");
        options.AdvertiseRoutes.Add(IPNetwork.Parse("10.1.0.0/16"));
        options.AcceptRoutes = true;
        options.CapabilityVersion = 113;
        await using var server = new TailnetServer(options);
        var before = server.PublicKey;
        options.AdvertiseTags.Add("tag:late"); // copied at construction

        await server.StartAsync(cts.Token);

        var context = sessions.Single().Context;
        context.State.NodeKey.PublicKey.Should().Be(before, "PublicKey is the node key, known before start");
        server.PublicKey.Should().Be(before);
        context.ControlUrl.Should().Be(new Uri("http://control.test"));
        context.AuthKey.Should().Be("tskey-auth-test");
        context.Ephemeral.Should().BeTrue();
        context.StateDirectory.Should().BeNull();
        context.Hostname.Should().Be(OptionsValidation.SanitizeHostname(Assembly.GetEntryAssembly()?.GetName().Name));
        context.Hostname.Should().MatchRegex("^[a-z0-9-]+$");
        context.AdvertiseTags.Should().Equal("tag:web");
        context.AdvertiseRoutes.Should().Equal(IPNetwork.Parse("10.1.0.0/16"));
        context.AcceptRoutes.Should().BeTrue();
        context.CapabilityVersion.Should().Be(113);
        context.DiscoPublicKey.Should().Be(server.DiscoPublicKey);
        context.TimeProvider.Should().BeSameAs(tailnet.Time);
        sessions.Single().Endpoints.Should().Equal(new IPEndPoint(IPAddress.Loopback, server.ListenPort));
    }

    [Fact]
    public async Task StateDirectory_KeepsTheNodeKey_AcrossNodes()
    {
        var directory = Path.Combine(Path.GetTempPath(), "tsnet-control-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var tailnet = new FakeTailnet();
            var options = tailnet.Options([], directory);
            options.Hostname = "web";
            WireGuardKey first;
            await using (var server = new TailnetServer(options))
            {
                first = server.PublicKey;
                ControlStateStore.TryLoad(directory, out var state).Should().BeTrue("the constructor made the state");
                state.NodeKey.PublicKey.Should().Be(first);
            }

            await using var again = new TailnetServer(options);
            again.PublicKey.Should().Be(first);
            var sessions = new List<FakeControlSession>();
            await using var started = new TailnetServer(tailnet.Options(sessions, directory));
            await started.StartAsync();
            sessions.Single().Context.StateDirectory.Should().Be(directory);
            sessions.Single().Context.State.NodeKey.PublicKey.Should().Be(first);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task ExplicitHostname_IsPassedAsGiven()
    {
        await using var tailnet = new FakeTailnet();
        var sessions = new List<FakeControlSession>();
        var options = tailnet.Options(sessions);
        options.Hostname = "web-1";
        await using var server = new TailnetServer(options);
        await server.StartAsync();
        sessions.Single().Context.Hostname.Should().Be("web-1");
    }

    [Fact]
    public async Task AddOrUpdatePeerAndRemovePeer_InControlMode_Throw()
    {
        await using var tailnet = new FakeTailnet();
        await using var server = new TailnetServer(tailnet.Options([]));
        var peer = new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, AllowedIps = { IPNetwork.Parse("100.64.0.9/32") } };

        FluentActions.Invoking(() => server.AddOrUpdatePeer(peer)).Should().Throw<InvalidOperationException>().WithMessage("*control mode*");
        await FluentActions.Awaiting(() => server.AddOrUpdatePeerAsync(peer).AsTask()).Should().ThrowAsync<InvalidOperationException>();
        FluentActions.Invoking(() => server.RemovePeer(peer.PublicKey)).Should().Throw<InvalidOperationException>();
        await FluentActions.Awaiting(() => server.RemovePeerAsync(peer.PublicKey).AsTask()).Should().ThrowAsync<InvalidOperationException>();
    }
}

/// <summary>Tests that change the process environment run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "process environment";
}

/// <summary><c>TS_AUTHKEY</c> is read at start when the options have no auth key.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class ControlModeAuthKeyEnvironmentTests
{
    [Fact]
    public async Task NoAuthKeyInTheOptions_TakesTsAuthKey_AtStart()
    {
        var previous = Environment.GetEnvironmentVariable("TS_AUTHKEY");
        try
        {
            await using var tailnet = new FakeTailnet();
            var sessions = new List<FakeControlSession>();
            var options = tailnet.Options(sessions);
            options.AuthKey = null;
            Environment.SetEnvironmentVariable("TS_AUTHKEY", "tskey-at-construction");
            await using var server = new TailnetServer(options);
            Environment.SetEnvironmentVariable("TS_AUTHKEY", "tskey-from-env");

            await server.StartAsync();

            sessions.Single().Context.AuthKey.Should().Be("tskey-from-env");
            Environment.SetEnvironmentVariable("TS_AUTHKEY", null);
            var none = new List<FakeControlSession>();
            var interactive = tailnet.Options(none);
            interactive.AuthKey = null;
            await using var second = new TailnetServer(interactive);
            await second.StartAsync();
            none.Single().Context.AuthKey.Should().BeNull("no key: interactive login");
        }
        finally
        {
            Environment.SetEnvironmentVariable("TS_AUTHKEY", previous);
        }
    }
}
