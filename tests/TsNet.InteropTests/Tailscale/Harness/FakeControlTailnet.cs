using System.Globalization;
using System.Text.Json;
using TsNet.Control.Netmap;
using TsNet.Control.Protocol;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>One DERP region of a <see cref="FakeControlTailnet"/>'s map, served by a real derper.</summary>
/// <param name="Id">The region ID.</param>
/// <param name="Code">The region code (status shows <c>derp &lt;code&gt;</c>).</param>
/// <param name="Server">The derper serving the region's only node.</param>
public sealed record FakeDerpRegion(int Id, string Code, DerpServer Server);

/// <summary>
/// An in-process coordination server at the <c>IControlSession</c> seam (<see cref="TailnetTestHooks.ControlSessionFactory"/>)
/// for TsNet nodes on real sockets: each node gets a netmap naming every other node (disco key, UDP endpoint
/// 127.0.0.1:port, <c>DERP</c> = the home region that peer reported) and a DERP map of real derpers with the node's own
/// <c>HomeParams.RegionScore</c>. A reported home region re-pushes every node's map, as a control server would.
/// </summary>
public sealed class FakeControlTailnet : IAsyncDisposable
{
    /// <summary>The tailnet's MagicDNS domain.</summary>
    public const string Domain = "tail.test";

    private const string ControlUrl = "http://control.fake.test";
    private const string AllowAll = """[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]""";

    private readonly TailscaleWorkDir _workDir;
    private readonly IReadOnlyList<FakeDerpRegion> _regions;
    private readonly List<FakeControlNode> _nodes = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _gate = new();
    private readonly List<Task> _pushes = [];

    /// <summary>A tailnet whose DERP map has <paramref name="regions"/>.</summary>
    public FakeControlTailnet(TailscaleWorkDir workDir, IReadOnlyList<FakeDerpRegion> regions)
    {
        _workDir = workDir;
        _regions = regions;
    }

    /// <summary>The nodes added so far.</summary>
    public IReadOnlyList<FakeControlNode> Nodes => _nodes;

    /// <summary>
    /// Creates (does not start) a node with tailnet address 100.64.0.<paramref name="id"/> whose DERP map carries
    /// <paramref name="regionScore"/>; the tailnet disposes it.
    /// </summary>
    public FakeControlNode AddNode(string name, int id, IReadOnlyDictionary<int, double> regionScore)
    {
        FakeControlSession? session = null;
        var node = ControlModeNode.Create(_workDir, ControlUrl, name, authKey: "tskey-fake", options =>
        {
            options.Ephemeral = true;
            options.TestHooks.ControlSessionFactory = _ => session = new FakeControlSession();
        });
        var fake = new FakeControlNode(this, node, id, () => session) { RegionScore = regionScore };
        _nodes.Add(fake);
        return fake;
    }

    /// <summary>Starts every node, plays each its first map once its session started, and waits until all are Running.</summary>
    public async Task UpAsync(CancellationToken cancellationToken)
    {
        var ups = _nodes.Select(n => n.Node.UpAsync(cancellationToken)).ToList();
        foreach (var node in _nodes)
        {
            await node.WaitForSessionAsync(cancellationToken);
            node.Session.HomeDerpReported += _ => PushAllInBackground();
        }

        await PushAllAsync(cancellationToken);
        await Task.WhenAll(ups);
    }

    /// <summary>Sends every started node its current full map and waits until each applied it.</summary>
    public async Task PushAllAsync(CancellationToken cancellationToken)
    {
        foreach (var node in _nodes)
        {
            await node.PushMapAsync(cancellationToken);
        }
    }

    /// <summary>The DERP map a node with <paramref name="regionScore"/> gets, as JSON.</summary>
    internal string DerpMapJson(IReadOnlyDictionary<int, double> regionScore)
    {
        var regions = string.Join(",", _regions.Select(r => $$"""
            "{{r.Id}}":{"RegionID":{{r.Id}},"RegionCode":"{{r.Code}}","RegionName":"Region {{r.Code}}","Nodes":[
              {"Name":"{{r.Id}}a","RegionID":{{r.Id}},"HostName":"{{r.Server.Host}}","IPv4":"127.0.0.1","IPv6":"none",
               "STUNPort":{{r.Server.StunPort}},"DERPPort":{{r.Server.TlsPort}},"InsecureForTests":true}]}
            """));
        var scores = string.Join(",", regionScore.Select(s => $"\"{s.Key}\":{s.Value.ToString(CultureInfo.InvariantCulture)}"));
        return "{\"Regions\":{" + regions + "},\"HomeParams\":{\"RegionScore\":{" + scores + "}}}";
    }

    /// <summary>The full map for <paramref name="self"/>: itself, every other started node as a peer, users, filter, DERP map.</summary>
    internal string FullMapJson(FakeControlNode self)
    {
        var peers = string.Join(",", _nodes.Where(n => n != self && n.HasSession).Select(n => n.NodeJson()));
        var users = "[" + string.Join(",", _nodes.Select(n => $$"""{"ID":{{n.Id}},"LoginName":"{{n.Name}}@example.com","DisplayName":"User {{n.Name}}"}""")) + "]";
        return $$"""{"Node":{{self.NodeJson()}},"Domain":"{{Domain}}","Peers":[{{peers}}],"UserProfiles":{{users}},"PacketFilter":{{AllowAll}},"DERPMap":{{DerpMapJson(self.RegionScore)}}}""";
    }

    private void PushAllInBackground()
    {
        lock (_gate)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            _pushes.RemoveAll(t => t.IsCompleted);
            _pushes.Add(Task.Run(async () =>
            {
                try
                {
                    await PushAllAsync(_stopping.Token);
                }
                catch (Exception e) when (e is OperationCanceledException || _stopping.IsCancellationRequested)
                {
                    // The tailnet is going away.
                }
                catch (Exception e)
                {
                    _workDir.Log.Write($"[fake control] pushing maps after a home report failed: {e}");
                }
            }));
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        Task[] pushes;
        lock (_gate)
        {
            _stopping.Cancel();
            pushes = [.. _pushes];
        }

        await Task.WhenAll(pushes).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        for (var i = _nodes.Count - 1; i >= 0; i--)
        {
            await _nodes[i].Node.DisposeAsync();
        }

        _stopping.Dispose();
    }
}

/// <summary>One node of a <see cref="FakeControlTailnet"/> and what the fake server says about it.</summary>
public sealed class FakeControlNode
{
    private readonly FakeControlTailnet _tailnet;
    private readonly Func<FakeControlSession?> _session;
    private readonly SemaphoreSlim _pushGate = new(1, 1);
    private readonly NetmapFolder _folder = new(TimeProvider.System);
    private IReadOnlyDictionary<int, double> _regionScore = new Dictionary<int, double>();

    internal FakeControlNode(FakeControlTailnet tailnet, ControlModeNode node, int id, Func<FakeControlSession?> session)
    {
        _tailnet = tailnet;
        Node = node;
        Id = id;
        _session = session;
    }

    /// <summary>The TsNet node.</summary>
    public ControlModeNode Node { get; }

    /// <summary>The node's name (host name, MagicDNS label).</summary>
    public string Name => Node.Name;

    /// <summary>The node's ID; its IPv4 address is 100.64.0.ID.</summary>
    public int Id { get; }

    /// <summary>The node's tailnet IPv4 address.</summary>
    public string IPv4 => "100.64.0." + Id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The DERP map's <c>HomeParams.RegionScore</c> for this node (takes effect with the next push).</summary>
    public IReadOnlyDictionary<int, double> RegionScore
    {
        get => Volatile.Read(ref _regionScore);
        set => Volatile.Write(ref _regionScore, value);
    }

    /// <summary>The home region the node last reported to its session (0 before any).</summary>
    public int ReportedHome => _session()?.HomeDerp ?? 0;

    /// <summary>The DERP latencies the node last reported to control (empty before any).</summary>
    public IReadOnlyDictionary<int, TimeSpan> ReportedLatencies => _session()?.DerpLatencies ?? new Dictionary<int, TimeSpan>();

    internal bool HasSession => _session() is { Started.IsCompleted: true };

    internal FakeControlSession Session => _session() ?? throw new InvalidOperationException($"{Name} has no session yet");

    internal async Task WaitForSessionAsync(CancellationToken cancellationToken)
    {
        await Poll.UntilAsync(_ => Task.FromResult(_session() is not null), made => made, ControlModeNode.UpTimeout, $"{Name} making its control session", cancellationToken, TimeSpan.FromMilliseconds(20));
        await Session.Started.WaitAsync(ControlModeNode.UpTimeout, cancellationToken);
    }

    /// <summary>The node as a tailcfg Node in JSON (DERP = its reported home; endpoint = its UDP port on 127.0.0.1).</summary>
    internal string NodeJson()
    {
        var server = Node.Server;
        var home = ReportedHome;
        var derp = home > 0 ? "127.3.3.40:" + home.ToString(CultureInfo.InvariantCulture) : string.Empty;
        return $$"""
            {"ID":{{Id}},"Name":"{{Name}}.{{FakeControlTailnet.Domain}}.","User":{{Id}},"Key":"{{ControlKeyText.Format(ControlKeyText.NodePublicPrefix, server.PublicKey)}}",
             "DiscoKey":"{{ControlKeyText.Format(server.DiscoPublicKey)}}","KeyExpiry":"0001-01-01T00:00:00Z",
             "Addresses":["{{IPv4}}/32","fd7a:115c:a1e0::{{Id.ToString("x", CultureInfo.InvariantCulture)}}/128"],"Endpoints":["127.0.0.1:{{Node.Options.ListenPort}}"],
             "DERP":"{{derp}}","Online":true,"Hostinfo":{"Hostname":"{{Name}}"} }
            """;
    }

    /// <summary>Folds this node's current full map and has the node apply it (one push at a time per node).</summary>
    internal async Task PushMapAsync(CancellationToken cancellationToken)
    {
        var observer = await Session.Started.WaitAsync(cancellationToken);
        await _pushGate.WaitAsync(cancellationToken);
        try
        {
            var json = _tailnet.FullMapJson(this);
            var response = JsonSerializer.Deserialize(json, ControlJsonContext.Default.MapResponse)
                ?? throw new InvalidOperationException("the fake map did not parse");
            if (_folder.Apply(response) is { } update)
            {
                await observer.OnNetmapAsync(update, cancellationToken);
            }
        }
        finally
        {
            _pushGate.Release();
        }
    }
}
