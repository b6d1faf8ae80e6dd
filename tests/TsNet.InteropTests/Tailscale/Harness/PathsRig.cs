using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// The world of one paths interop test (DERP, disco, direct UDP): a work directory, a <c>derper</c> (TLS + STUN), the
/// test control server announcing it as region 1 (<c>test</c>), and the TsNet nodes, <c>tailscaled</c>s, HTTP
/// services and nft path blocks the test adds. Dispose stops everything in reverse order (blocks, services, nodes,
/// daemons, then the server, derper and the work directory, which keeps the logs unless <see cref="Complete"/> was
/// called), also when the test failed half-way.
/// </summary>
public sealed class PathsRig : IAsyncDisposable
{
    /// <summary>The DERP region code of the test control server's DERP map.</summary>
    public const string RegionCode = "test";

    /// <summary>The DERP region id of the test control server's DERP map.</summary>
    public const int RegionId = 1;

    /// <summary>The status path text of a peer reached through the test DERP region.</summary>
    public const string DerpPath = "derp " + RegionCode;

    /// <summary>The <c>tailscale ping</c> path of a pong through the test DERP region.</summary>
    public const string DerpPongVia = "DERP(" + RegionCode + ")";

    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(30);

    private readonly List<IAsyncDisposable> _owned = new();
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Bytes of one bulk transfer of the paths tests: 50 MiB × <see cref="TestScale.Factor"/>.</summary>
    public static long TransferBytes => 50L * 1024 * 1024 * TestScale.Factor;

    private PathsRig(TailscaleWorkDir workDir, DerpServer derp, TestControlServer control)
    {
        WorkDir = workDir;
        Derp = derp;
        Control = control;
        Runner = new ProcessRunner(workDir.Log);
    }

    /// <summary>The work directory (logs, state directories, bodies of transfers).</summary>
    public TailscaleWorkDir WorkDir { get; }

    /// <summary>The DERP server of region 1.</summary>
    public DerpServer Derp { get; }

    /// <summary>The test control server.</summary>
    public TestControlServer Control { get; }

    /// <summary>Runs and logs external commands (nft, curl).</summary>
    public ProcessRunner Runner { get; }

    /// <summary>The test's log.</summary>
    public TestLog Log => WorkDir.Log;

    /// <summary>
    /// Creates the work directory, starts derper and the control server with derper's ports;
    /// <paramref name="readonlyUpdatesDerp"/> adds <c>-readonly-updates-derp</c> (needed when a tailscaled runs DERP-only).
    /// </summary>
    public static async Task<PathsRig> StartAsync(TestLog log, bool readonlyUpdatesDerp, CancellationToken cancellationToken)
    {
        TailscaleBinaries.EnsureAvailable();
        var workDir = await TailscaleWorkDir.CreateAsync(log, cancellationToken);
        DerpServer? derp = null;
        try
        {
            derp = await DerpServer.StartAsync(workDir, cancellationToken);
            var options = new TestControlServerOptions { DerpPort = derp.TlsPort, StunPort = derp.StunPort, ReadonlyUpdatesDerp = readonlyUpdatesDerp };
            var control = await TestControlServer.StartAsync(workDir, options, cancellationToken);
            return new PathsRig(workDir, derp, control);
        }
        catch
        {
            if (derp is not null)
            {
                await derp.DisposeAsync();
            }

            await workDir.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates (does not start) a TsNet node against the server, its UDP port chosen; the rig disposes it.</summary>
    public ControlModeNode AddNode(string name, Action<TailnetServerOptions>? configure = null)
    {
        var node = ControlModeNode.Create(WorkDir, Control.Url, name, authKey: "tskey-paths", configure);
        _owned.Add(node);
        return node;
    }

    /// <summary>Creates and starts (bounded) a TsNet node against the server; the rig disposes it.</summary>
    public async Task<ControlModeNode> UpNodeAsync(string name, CancellationToken cancellationToken, Action<TailnetServerOptions>? configure = null)
    {
        var node = AddNode(name, configure);
        await node.UpAsync(cancellationToken);
        return node;
    }

    /// <summary>
    /// Brings up a TsNet node <c>tsnode</c> and a tailscaled <c>tsd</c> (DERP only when <paramref name="derpOnly"/>;
    /// start the rig with <c>readonlyUpdatesDerp</c> then) and waits until each lists the other.
    /// </summary>
    public async Task<TsNetTailscaledPair> UpTsNetAndTailscaledAsync(bool derpOnly, CancellationToken cancellationToken)
    {
        var nodeUp = UpNodeAsync("tsnode", cancellationToken);
        var daemonUp = UpTailscaledAsync("ts1", "tsd", derpOnly, cancellationToken);
        var (node, daemon) = (await nodeUp, await daemonUp);
        var daemonKey = await NodeKeyOfAsync(daemon, cancellationToken);
        await daemon.WaitForStatusAsync(s => s.FindPeer("tsnode") is { Online: true }, PeerTimeout, "seeing tsnode online", cancellationToken);
        await node.WaitUntilAsync(_ => node.HasPeer(daemonKey), PeerTimeout, "seeing tsd", cancellationToken);
        Log.Write($"pair up: tsnode UDP {node.Server.ListenPort}, tsd UDP {daemon.Port}{(derpOnly ? " (DERP only)" : string.Empty)}, tsd key {daemonKey}");
        return new TsNetTailscaledPair(node, daemon, daemonKey);
    }

    /// <summary>Starts a userspace <c>tailscaled</c> (DERP only when <paramref name="derpOnly"/>) and brings it up as <paramref name="hostname"/>; the rig disposes it.</summary>
    public async Task<Tailscaled> UpTailscaledAsync(string name, string hostname, bool derpOnly, CancellationToken cancellationToken)
    {
        var daemon = await Tailscaled.StartAsync(WorkDir, new TailscaledOptions { Name = name, DerpOnly = derpOnly }, cancellationToken);
        _owned.Add(daemon);
        await daemon.UpAsync(Control.Url, "tskey-paths", hostname, cancellationToken: cancellationToken);
        return daemon;
    }

    /// <summary>A curl client through <paramref name="daemon"/>'s SOCKS5 server, bodies in the work directory.</summary>
    public SocksHttpClient CurlVia(Tailscaled daemon) => new(daemon, Runner, WorkDir.Subdirectory("bodies"), _stopping.Token);

    /// <summary>
    /// Serves <see cref="MiniHttpServer"/> on the host's 127.0.0.1 at a free port: a userspace tailscaled hands inbound
    /// tailnet TCP to the same port there, so every tailscaled of the rig serves it on that port. The rig disposes it.
    /// </summary>
    internal MiniHttpServer StartHostHttp()
    {
        var listener = new TcpListener(IPAddress.Loopback, TailscalePorts.FreeTcp());
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = MiniHttpServer.Start(
            async ct => new NetworkStream(await listener.AcceptSocketAsync(ct), ownsSocket: true),
            () =>
            {
                listener.Stop();
                return ValueTask.CompletedTask;
            },
            Log,
            "host http 127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture),
            port);
        _owned.Add(server);
        return server;
    }

    /// <summary>Serves <see cref="MiniHttpServer"/> on a tailnet listener of <paramref name="node"/> (a fresh overlay port); the rig disposes it.</summary>
    internal async Task<MiniHttpServer> StartTailnetHttpAsync(ControlModeNode node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var server = MiniHttpServer.Start(await node.Server.ListenTcpAsync(OverlayPorts.Next(), cancellationToken), Log);
        _owned.Add(server);
        Log.Write($"[{node.Name}] HTTP on tailnet port {server.Port}");
        return server;
    }

    /// <summary>Drops UDP between two ports on loopback (<see cref="UdpPathBlock"/>); the rig also removes it on dispose.</summary>
    public async Task<UdpPathBlock> BlockUdpAsync(int portA, int portB, CancellationToken cancellationToken)
    {
        var block = await UdpPathBlock.AddAsync(Runner, portA, portB, cancellationToken);
        _owned.Add(block);
        return block;
    }

    /// <summary>The WireGuard key of <paramref name="daemon"/>'s node key (as TsNet's status lists the peer).</summary>
    public static async Task<WireGuardKey> NodeKeyOfAsync(Tailscaled daemon, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(daemon);
        var self = (await daemon.StatusJsonAsync(cancellationToken: cancellationToken)).Self
            ?? throw new InvalidOperationException($"{daemon.Name}: status has no Self");
        const string prefix = "nodekey:";
        if (!self.PublicKey.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{daemon.Name}: unexpected node key text {self.PublicKey}");
        }

        return new WireGuardKey(Convert.FromHexString(self.PublicKey[prefix.Length..]));
    }

    /// <summary>The path text of <paramref name="node"/>'s status entry for <paramref name="peer"/>; null without one (or no entry).</summary>
    public static string? PathOf(ControlModeNode node, WireGuardKey peer)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node.Server.GetStatus().Peers.FirstOrDefault(entry => entry.PublicKey == peer)?.Path;
    }

    /// <summary>
    /// Polls <paramref name="node"/>'s status (every 100 ms) until its path to <paramref name="peer"/> satisfies
    /// <paramref name="condition"/>; returns that path and how long it took. Throws with the last path on timeout.
    /// </summary>
    public async Task<(string Path, TimeSpan Elapsed)> WaitForPathAsync(
        ControlModeNode node, WireGuardKey peer, Func<string, bool> condition, TimeSpan timeout, string description, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        var path = await Poll.UntilAsync(
            _ => Task.FromResult(PathOf(node, peer) ?? "(none)"),
            condition,
            timeout,
            $"{node.Name}: path to {peer} {description}",
            cancellationToken,
            TimeSpan.FromMilliseconds(100));
        Log.Write($"[{node.Name}] path to {peer}: {path} ({description}) after {clock.Elapsed.TotalSeconds:0.00} s");
        return (path, clock.Elapsed);
    }

    /// <summary>
    /// One line of <paramref name="node"/>'s status for the log and failure messages: its home region, endpoints and
    /// drop counters, and its path, session and byte counts to <paramref name="peer"/>.
    /// </summary>
    public static string DescribeStatus(ControlModeNode node, WireGuardKey peer)
    {
        ArgumentNullException.ThrowIfNull(node);
        try
        {
            var status = node.Server.GetStatus();
            var entry = status.Peers.FirstOrDefault(candidate => candidate.PublicKey == peer);
            var drops = status.Drops.Count == 0 ? "none" : string.Join(", ", status.Drops.Select(pair => $"{pair.Key}={pair.Value}"));
            var peerText = entry is null
                ? "no such peer"
                : $"path {entry.Path ?? "(none)"}, endpoint {entry.Endpoint}, session {entry.SessionState}, rx {entry.RxBytes}, tx {entry.TxBytes}";
            return $"{node.Name}: home region {status.HomeDerpRegion?.ToString(CultureInfo.InvariantCulture) ?? "none"}, endpoints [{string.Join(", ", status.Endpoints)}], " +
                   $"drops {drops}; to {peer}: {peerText}";
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            return $"{node.Name}: no status ({e.Message})";
        }
    }

    /// <summary>Writes <see cref="DescribeStatus"/> to the log with <paramref name="when"/> in front.</summary>
    public void LogStatus(string when, ControlModeNode node, WireGuardKey peer) => Log.Write($"status {when}: {DescribeStatus(node, peer)}");

    /// <summary>True for a status path of a direct UDP path (<c>direct &lt;ip:port&gt;</c>).</summary>
    public static bool IsDirectPath(string path) =>
        path.StartsWith("direct ", StringComparison.Ordinal) && IPEndPoint.TryParse(path["direct ".Length..], out _);

    /// <summary>Marks the test passed (the work directory is deleted on dispose).</summary>
    public void Complete() => WorkDir.Complete();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        // A transfer still running (the test failed during it) is killed first.
        await _stopping.CancelAsync();
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            try
            {
                await _owned[i].DisposeAsync();
            }
            catch (Exception e)
            {
                Log.Write($"dispose of {_owned[i].GetType().Name} failed: {e}");
            }
        }

        await Control.DisposeAsync();
        await Derp.DisposeAsync();
        await WorkDir.DisposeAsync();
        _stopping.Dispose();
    }
}

/// <summary>A TsNet node and a tailscaled on one tailnet; <see cref="DaemonKey"/> is how the node's status lists the daemon.</summary>
public sealed record TsNetTailscaledPair(ControlModeNode Node, Tailscaled Daemon, WireGuardKey DaemonKey);
