using System.Globalization;
using System.Net;
using System.Text.Json;
using TsNet.Control.Netmap;
using TsNet.Control.Protocol;
using TsNet.Underlay;

namespace TsNet.Tests.ControlMode;

/// <summary>
/// A tailnet played by the test: nodes in control mode on one in-memory underlay hub, each with a
/// <see cref="FakeControlSession"/> and a real <see cref="NetmapFolder"/> that folds the MapResponse JSON this class
/// writes (as a coordination server would send it) into the updates the node applies.
/// </summary>
internal sealed class FakeTailnet : IAsyncDisposable
{
    public const string Domain = "tail.test";

    /// <summary>Every port, every protocol, from everyone (the test server's default).</summary>
    public const string AllowAll = """[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]""";

    private readonly List<FakeNode> _nodes = [];

    public FakeTailnet(TimeProvider? time = null)
    {
        Time = time ?? TimeProvider.System;
        Hub = new InMemoryUnderlayHub(Time);
    }

    public TimeProvider Time { get; }

    public InMemoryUnderlayHub Hub { get; }

    /// <summary>The rules every map carries (raw JSON; null leaves the field out: unchanged).</summary>
    public string? Filter { get; set; } = AllowAll;

    public IReadOnlyList<FakeNode> Nodes => _nodes;

    /// <summary>Options of a control-mode node on the hub whose session is a fake (captured in <paramref name="sessions"/>).</summary>
    public TailnetServerOptions Options(List<FakeControlSession> sessions, string? stateDirectory = null)
    {
        var options = new TailnetServerOptions
        {
            ControlUrl = new Uri("http://control.test"),
            AuthKey = "tskey-auth-test",
            Ephemeral = stateDirectory is null,
            StateDirectory = stateDirectory,
            TimeProvider = Time,
            TestHooks = new TailnetTestHooks
            {
                InMemoryUnderlay = Hub,
                ControlSessionFactory = context =>
                {
                    var session = new FakeControlSession(context);
                    lock (sessions)
                    {
                        sessions.Add(session);
                    }

                    return session;
                },
            },
        };
        return options;
    }

    /// <summary>A started node named <paramref name="name"/> with tailnet addresses 100.64.0.<paramref name="id"/> and fd7a:115c:a1e0::<paramref name="id"/>.</summary>
    public async Task<FakeNode> AddNodeAsync(string name, int id, CancellationToken cancellationToken, string[]? tags = null)
    {
        var sessions = new List<FakeControlSession>();
        var server = new TailnetServer(Options(sessions));
        try
        {
            await server.StartAsync(cancellationToken);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        var node = new FakeNode(this, name, id, server, sessions.Single(), tags ?? []);
        await node.Session.Started.WaitAsync(cancellationToken);
        _nodes.Add(node);
        return node;
    }

    /// <summary>Sends every node a full map naming every other node, and waits until each applied it.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        foreach (var node in _nodes)
        {
            await node.PushFullMapAsync(cancellationToken);
        }
    }

    public void Remove(FakeNode node) => _nodes.Remove(node);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.Server.DisposeAsync();
        }

        Hub.Dispose();
    }

    /// <summary>User profiles of every node (user ID = node ID).</summary>
    public string UserProfiles() =>
        "[" + string.Join(",", _nodes.Select(n => $$"""{"ID":{{n.Id}},"LoginName":"{{n.Name}}@example.com","DisplayName":"User {{n.Name}}"}""")) + "]";
}

/// <summary>One node of a <see cref="FakeTailnet"/> and what the coordination server says about it.</summary>
internal sealed class FakeNode(FakeTailnet tailnet, string name, int id, TailnetServer server, FakeControlSession session, string[] tags)
{
    public string Name { get; } = name;

    public int Id { get; } = id;

    public TailnetServer Server { get; } = server;

    public FakeControlSession Session { get; } = session;

    public NetmapFolder Folder { get; } = new(tailnet.Time);

    public string[] Tags { get; set; } = tags;

    /// <summary>The node's IPv4 address's last byte (the server may change it).</summary>
    public int AddressByte { get; set; } = id;

    /// <summary>The node key expiry the server states (null: none, Go's zero time).</summary>
    public DateTimeOffset? KeyExpiry { get; set; }

    public IPAddress Ipv4 => IPAddress.Parse("100.64.0." + AddressByte);

    public IPAddress Ipv6 => IPAddress.Parse("fd7a:115c:a1e0::" + AddressByte.ToString("x", CultureInfo.InvariantCulture));

    public string DnsName => Name + "." + FakeTailnet.Domain;

    /// <summary>The node as a tailcfg Node in JSON.</summary>
    public string NodeJson()
    {
        var expiry = KeyExpiry is { } at ? at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : "0001-01-01T00:00:00Z";
        var tagJson = JsonSerializer.Serialize(Tags);
        return $$"""
            {"ID":{{Id}},"Name":"{{DnsName}}.","User":{{Id}},"Key":"{{ControlKeyText.Format(ControlKeyText.NodePublicPrefix, Server.PublicKey)}}",
             "DiscoKey":"{{ControlKeyText.Format(Server.DiscoPublicKey)}}","KeyExpiry":"{{expiry}}",
             "Addresses":["{{Ipv4}}/32","{{Ipv6}}/128"],"Endpoints":["127.0.0.1:{{Server.ListenPort}}"],
             "DERP":"127.3.3.40:1","Online":true,"Tags":{{tagJson}},"Hostinfo":{"Hostname":"{{Name}}"} }
            """;
    }

    /// <summary>A full map for this node: itself, every other node of the tailnet as a peer, users and the filter.</summary>
    public string FullMapJson()
    {
        var peers = string.Join(",", tailnet.Nodes.Where(n => n != this).Select(n => n.NodeJson()));
        var filter = tailnet.Filter is { } rules ? ",\"PacketFilter\":" + rules : string.Empty;
        return $$"""{"Node":{{NodeJson()}},"Domain":"{{FakeTailnet.Domain}}","Peers":[{{peers}}],"UserProfiles":{{tailnet.UserProfiles()}}""" + filter + "}";
    }

    public Task PushFullMapAsync(CancellationToken cancellationToken) => PushAsync(FullMapJson(), cancellationToken);

    /// <summary>Folds <paramref name="mapResponseJson"/> and has the node apply the update.</summary>
    public async Task PushAsync(string mapResponseJson, CancellationToken cancellationToken)
    {
        var response = JsonSerializer.Deserialize(mapResponseJson, ControlJsonContext.Default.MapResponse)!;
        var update = Folder.Apply(response) ?? throw new InvalidOperationException("the map changed nothing");
        await Session.ApplyAsync(update, cancellationToken);
    }
}
