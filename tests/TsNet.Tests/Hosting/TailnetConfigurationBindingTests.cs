using System.Net;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace TsNet.Tests.Hosting;

/// <summary><c>services.AddTailnet(section)</c>: every key is bound, lists as arrays or text, mistakes fail the host's start naming the key.</summary>
public sealed class TailnetConfigurationBindingTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static TailnetServerOptions Bind(string json)
    {
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        var services = new ServiceCollection();
        services.AddTailnet(configuration.GetSection("Tailnet"));
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<TailnetServerOptions>>().Value;
    }

    [Fact]
    public void EveryKey_IsBound_ListsFromJsonArrays()
    {
        var key = WireGuardKey.Generate();
        var options = Bind($$"""
            {
              "Tailnet": {
                "ControlUrl": "https://headscale.example.com",
                "AuthKey": "tskey-auth-123",
                "Hostname": "web",
                "StateDirectory": "/var/lib/web",
                "Ephemeral": true,
                "AdvertiseTags": [ "tag:web", "tag:prod" ],
                "AdvertiseRoutes": [ "10.1.0.0/16", "fd00:1::/64" ],
                "AcceptRoutes": true,
                "CapabilityVersion": 113,
                "ListenPort": 41641,
                "Mtu": 1400,
                "QueueCapacity": 256,
                "DnsSuffix": "tailnet.example",
                "Addresses": [ "100.64.0.7/32" ],
                "PrivateKey": "{{key}}"
              }
            }
            """);

        options.ControlUrl.Should().Be(new Uri("https://headscale.example.com"));
        options.AuthKey.Should().Be("tskey-auth-123");
        options.Hostname.Should().Be("web");
        options.StateDirectory.Should().Be("/var/lib/web");
        options.Ephemeral.Should().BeTrue();
        options.AdvertiseTags.Should().Equal("tag:web", "tag:prod");
        options.AdvertiseRoutes.Should().Equal(IPNetwork.Parse("10.1.0.0/16"), IPNetwork.Parse("fd00:1::/64"));
        options.AcceptRoutes.Should().BeTrue();
        options.CapabilityVersion.Should().Be(113);
        options.ListenPort.Should().Be(41641);
        options.Mtu.Should().Be(1400);
        options.QueueCapacity.Should().Be(256);
        options.DnsSuffix.Should().Be("tailnet.example");
        options.Addresses.Should().Equal(IPNetwork.Parse("100.64.0.7/32"));
        options.PrivateKey.Should().Be(key);
    }

    [Fact]
    public void AbsentKeys_KeepTheDefaults_ListsFromCommaSeparatedText()
    {
        var options = Bind("""{ "Tailnet": { "AdvertiseTags": "tag:a, tag:b", "AdvertiseRoutes": "10.0.0.0/8,192.168.1.0/24", "AuthKey": "" } }""");

        var defaults = new TailnetServerOptions();
        options.AdvertiseTags.Should().Equal("tag:a", "tag:b");
        options.AdvertiseRoutes.Should().Equal(IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("192.168.1.0/24"));
        options.AuthKey.Should().BeNull("an empty value is no value, as an empty environment variable");
        options.ControlUrl.Should().BeNull();
        options.Mtu.Should().Be(defaults.Mtu);
        options.CapabilityVersion.Should().Be(defaults.CapabilityVersion);
        options.QueueCapacity.Should().Be(defaults.QueueCapacity);
        options.Ephemeral.Should().BeFalse();
    }

    [Fact]
    public void WireGuardConfigFile_IsReadFirst_OtherKeysOverrideIt()
    {
        var key = WireGuardKey.Generate();
        var peer = WireGuardKey.Generate().PublicKey;
        var file = Path.Combine(Path.GetTempPath(), "tsnet-hosting-" + Guid.NewGuid().ToString("N") + ".conf");
        File.WriteAllText(file, $"""
            [Interface]
            PrivateKey = {key}
            Address = 10.9.0.1/24
            ListenPort = 51820

            [Peer]
            # Name = db
            PublicKey = {peer}
            Endpoint = 127.0.0.1:51821
            AllowedIPs = 10.9.0.2/32
            """);
        try
        {
            var options = Bind($$"""{ "Tailnet": { "WireGuardConfigFile": "{{file}}", "ListenPort": 0, "DnsSuffix": "wg.example" } }""");

            options.PrivateKey.Should().Be(key);
            options.Addresses.Should().Equal(IPNetwork.Parse("10.9.0.1/32"));
            options.ListenPort.Should().Be(0, "the section's key overrides the file's");
            options.DnsSuffix.Should().Be("wg.example");
            options.Peers.Should().ContainSingle().Which.Name.Should().Be("db");
            options.Peers[0].PublicKey.Should().Be(peer);
            options.Peers[0].Endpoint.Should().Be("127.0.0.1:51821");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("""{ "Tailnet": { "Hostame": "web" } }""", "Tailnet:Hostame: not a TsNet setting")]
    [InlineData("""{ "Tailnet": { "ListenPort": "high" } }""", "Tailnet:ListenPort=high: expected a whole number")]
    [InlineData("""{ "Tailnet": { "Ephemeral": "yes" } }""", "Tailnet:Ephemeral=yes: expected true or false")]
    [InlineData("""{ "Tailnet": { "ControlUrl": "ftp://control.example" } }""", "Tailnet:ControlUrl=ftp://control.example: expected an http:// or https:// URL")]
    [InlineData("""{ "Tailnet": { "AdvertiseRoutes": [ "10.0.0.0/33" ] } }""", "Tailnet:AdvertiseRoutes=10.0.0.0/33: expected a network in CIDR notation")]
    [InlineData("""{ "Tailnet": { "PrivateKey": "secret" } }""", "Tailnet:PrivateKey=(hidden): expected a WireGuard key")]
    public async Task AMistake_FailsTheHostsStart_NamingTheKey(string json, string message)
    {
        using var cts = new CancellationTokenSource(Bound);
        var builder = HostingTestSupport.EmptyHost();
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        builder.Services.AddTailnet(builder.Configuration.GetSection("Tailnet"));
        using var host = builder.Build();

        var start = await FluentActions.Awaiting(() => host.StartAsync(cts.Token)).Should().ThrowAsync<InvalidOperationException>();
        start.Which.Message.Should().StartWith(message);
        start.Which.Message.Should().NotContain("secret", "a key's value is never echoed");
    }

    [Fact]
    public async Task InvalidOptions_FailTheHostsStart_WithTheNodesOwnMessage()
    {
        using var cts = new CancellationTokenSource(Bound);
        var builder = HostingTestSupport.EmptyHost();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Tailnet:ControlUrl"] = "https://control.example" });
        builder.Services.AddTailnet(builder.Configuration.GetSection("Tailnet"));
        using var host = builder.Build();

        var start = await FluentActions.Awaiting(() => host.StartAsync(cts.Token)).Should().ThrowAsync<ArgumentException>();
        start.Which.Message.Should().StartWith(
            "TailnetServerOptions.StateDirectory is required with a ControlUrl (it keeps the machine and node keys so the node comes back as itself), unless Ephemeral is set.");
    }

    [Fact]
    public async Task AMissingWireGuardConfigFile_FailsTheHostsStart_NamingTheFile()
    {
        using var cts = new CancellationTokenSource(Bound);
        var builder = HostingTestSupport.EmptyHost();
        var missing = Path.Combine(Path.GetTempPath(), "tsnet-missing-" + Guid.NewGuid().ToString("N") + ".conf");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Tailnet:WireGuardConfigFile"] = missing });
        builder.Services.AddTailnet(builder.Configuration.GetSection("Tailnet"));
        using var host = builder.Build();

        (await FluentActions.Awaiting(() => host.StartAsync(cts.Token)).Should().ThrowAsync<FileNotFoundException>())
            .Which.Message.Should().Contain(missing);
    }
}
