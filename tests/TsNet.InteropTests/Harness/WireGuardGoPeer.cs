using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;

namespace TsNet.InteropTests.Harness;

/// <summary>
/// A stock <c>wireguard-go</c> peer for interop tests. wireguard-go runs in the foreground as our child process in
/// the ROOT namespace, so its UDP socket is bound on the host (reachable at <c>127.0.0.1:ListenPort</c>); only its
/// TUN is moved into a namespace of its own, where the Linux kernel answers and originates overlay traffic
/// (<c>ip netns exec</c>). The wg control socket lives in the host's <c>/var/run/wireguard</c>, so <c>wg</c> runs in the
/// root namespace. Dispose stops the process (waiting on the pid), deletes the namespace and the socket.
/// </summary>
public sealed class WireGuardGoPeer : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<WireGuardGoPeer, byte> Live = CreateRegistry();

    // Kept in a field so the registration is not collected (which would unregister it).
    private static PosixSignalRegistration? _sigterm;

    private readonly WireGuardGoPeerOptions _options;
    private ChildProcess? _process;
    private bool _namespaceCreated;
    private int _disposed;

    private WireGuardGoPeer(WireGuardGoPeerOptions options, ProcessRunner runner, string name)
    {
        _options = options;
        Runner = runner;
        Namespace = name;
        TunName = name;
        Address = ParseAddress(options.Address);
        Address6 = options.Address6 is null ? null : ParseAddress(options.Address6);
    }

    /// <summary>The network namespace holding the TUN.</summary>
    public string Namespace { get; }

    /// <summary>The TUN interface name (also the wg interface name).</summary>
    public string TunName { get; }

    /// <summary>Overlay IPv4 address (without prefix).</summary>
    public IPAddress Address { get; }

    /// <summary>Overlay IPv6 address, when configured.</summary>
    public IPAddress? Address6 { get; }

    /// <summary>UDP port wireguard-go listens on (host, all addresses).</summary>
    public int ListenPort { get; private set; }

    /// <summary><c>127.0.0.1:ListenPort</c>.</summary>
    public string Endpoint => "127.0.0.1:" + ListenPort.ToString(CultureInfo.InvariantCulture);

    /// <summary>Private key, base64.</summary>
    public string PrivateKey { get; private set; } = string.Empty;

    /// <summary>Public key, base64 (computed by <c>wg pubkey</c>).</summary>
    public string PublicKey { get; private set; } = string.Empty;

    /// <summary>The peer's public key as configured.</summary>
    public string PeerPublicKey => _options.PeerPublicKey;

    /// <summary>Runs commands and logs them to the test output.</summary>
    public ProcessRunner Runner { get; }

    /// <summary>wireguard-go's log lines so far (verbose; stderr lines start with <c>!</c>).</summary>
    public IReadOnlyList<string> LogLines => _process?.Lines ?? Array.Empty<string>();

    /// <summary>wireguard-go's pid.</summary>
    public int ProcessId => _process?.Id ?? 0;

    /// <summary>wg's control socket path.</summary>
    public string SocketPath => Path.Combine(LeftoverCleaner.SocketDirectory, TunName + ".sock");

    /// <summary>Creates the namespace, starts and configures wireguard-go; on any failure cleans up and throws.</summary>
    public static async Task<WireGuardGoPeer> StartAsync(WireGuardGoPeerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        InteropEnvironment.EnsureReady();
        var runner = new ProcessRunner(new TestLog(options.Output));
        var peer = new WireGuardGoPeer(options, runner, ResourceNames.Next());
        Live.TryAdd(peer, 0);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.StartTimeout);
        try
        {
            await peer.StartCoreAsync(timeout.Token);
            return peer;
        }
        catch (Exception e)
        {
            runner.Log.Write($"wireguard-go peer {peer.TunName} failed to start: {e.Message}");
            await peer.DisposeAsync();
            if (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"wireguard-go peer {peer.TunName} did not start within {options.StartTimeout.TotalSeconds:0} s", e);
            }

            throw;
        }
    }

    /// <summary>Stops every peer of this process that is still running (used by the collection fixture).</summary>
    public static async Task DisposeAllAsync()
    {
        foreach (var peer in Live.Keys.ToList())
        {
            await peer.DisposeAsync();
        }
    }

    /// <summary>Runs a command inside the namespace (<c>ip netns exec NS ...</c>), 30 s bound.</summary>
    public Task<CommandResult> ExecInNamespaceAsync(params string[] args) => ExecInNamespaceAsync(ProcessRunner.DefaultTimeout, args);

    /// <summary>Runs a command inside the namespace with an explicit bound.</summary>
    public Task<CommandResult> ExecInNamespaceAsync(TimeSpan timeout, params string[] args) =>
        Runner.RunAsync("ip", new[] { "netns", "exec", Namespace }.Concat(args).ToArray(), timeout);

    /// <summary>
    /// <c>ping -c COUNT -i INTERVAL -w DEADLINE ADDRESS</c> from the namespace (the Linux kernel originates it).
    /// With a deadline, ping keeps sending until COUNT replies arrived or the deadline passed; default deadline is
    /// the nominal run time + 10 s.
    /// </summary>
    public async Task<PingResult> PingAsync(string address, int count, double intervalSeconds = 0.2, bool ipv6 = false, int deadlineSeconds = 0, CancellationToken cancellationToken = default)
    {
        var deadline = deadlineSeconds > 0 ? deadlineSeconds : (int)Math.Ceiling(count * intervalSeconds) + 10;
        var args = new[]
        {
            "netns", "exec", Namespace, "ping", ipv6 ? "-6" : "-4", "-n",
            "-c", count.ToString(CultureInfo.InvariantCulture),
            "-i", intervalSeconds.ToString("0.###", CultureInfo.InvariantCulture),
            "-w", deadline.ToString(CultureInfo.InvariantCulture),
            address,
        };
        var result = await Runner.RunAsync("ip", args, TimeSpan.FromSeconds(deadline + 10), cancellationToken: cancellationToken);
        return PingResult.Parse(result);
    }

    /// <summary><c>wg show TUN dump</c> (raw text); see <see cref="GetDumpAsync"/> for the parsed form.</summary>
    public async Task<string> ShowAsync(bool quiet = false, CancellationToken cancellationToken = default)
    {
        var result = await Runner.RunAsync("wg", new[] { "show", TunName, "dump" }, TimeSpan.FromSeconds(10), quiet: quiet, cancellationToken: cancellationToken);
        return result.EnsureSuccess().StandardOutput;
    }

    /// <summary>The parsed dump.</summary>
    public async Task<WireGuardDump> GetDumpAsync(bool quiet = false, CancellationToken cancellationToken = default) =>
        WireGuardDump.Parse(await ShowAsync(quiet, cancellationToken));

    /// <summary>Status of the configured peer (endpoint, latest handshake, rx/tx bytes).</summary>
    public async Task<WireGuardPeerStatus> GetPeerStatusAsync(bool quiet = false, CancellationToken cancellationToken = default)
    {
        var dump = await GetDumpAsync(quiet, cancellationToken);
        return dump.Peers.FirstOrDefault(p => p.PublicKey == _options.PeerPublicKey)
            ?? throw new InvalidOperationException($"peer {_options.PeerPublicKey} missing from wg dump of {TunName}");
    }

    /// <summary><c>wg set TUN peer KEY endpoint ENDPOINT</c>.</summary>
    public async Task SetPeerEndpointAsync(string endpoint, CancellationToken cancellationToken = default) =>
        await Runner.RunCheckedAsync("wg", new[] { "set", TunName, "peer", _options.PeerPublicKey, "endpoint", endpoint }, TimeSpan.FromSeconds(10), cancellationToken: cancellationToken);

    /// <summary>True when wireguard-go logged a line containing <paramref name="text"/> (e.g. "Receiving cookie response").</summary>
    public bool HasLogged(string text) => _process?.AnyLine(l => l.Contains(text, StringComparison.Ordinal)) ?? false;

    /// <summary>Stops wireguard-go (SIGTERM, then SIGKILL; waits on the pid), deletes the namespace and the socket. Never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (_process is not null)
            {
                await _process.DisposeAsync();
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            Runner.Log.Write($"stopping wireguard-go {TunName}: {e.Message}");
        }

        if (_namespaceCreated)
        {
            // Whatever a test left running in the namespace (socat, curl) would keep it alive after "ip netns del".
            await LeftoverCleaner.KillNamespaceProcessesAsync(Runner, Namespace);
            var deleted = await Runner.RunAsync("ip", new[] { "netns", "del", Namespace }, TimeSpan.FromSeconds(10));
            if (!deleted.Succeeded)
            {
                Runner.Log.Write($"namespace {Namespace} could not be deleted; the collection fixture retries at the end");
            }
        }

        if (File.Exists(SocketPath))
        {
            LeftoverCleaner.TryDelete(SocketPath);
        }

        Live.TryRemove(this, out _);
    }

    /// <inheritdoc/>
    public override string ToString() => $"wireguard-go {TunName} (ns {Namespace}, {Endpoint}, pid {ProcessId})";

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        PrivateKey = _options.PrivateKey ?? await WgTools.GenKeyAsync(Runner);
        PublicKey = await WgTools.PubKeyAsync(Runner, PrivateKey);

        if (File.Exists(SocketPath))
        {
            LeftoverCleaner.TryDelete(SocketPath);
        }

        await Runner.RunCheckedAsync("ip", new[] { "netns", "add", Namespace }, cancellationToken: cancellationToken);
        _namespaceCreated = true;
        await Runner.RunCheckedAsync("ip", new[] { "-n", Namespace, "link", "set", "lo", "up" }, cancellationToken: cancellationToken);

        // Foreground (-f) so the process stays our child and can be killed and reaped reliably.
        _process = Runner.Start(
            "wireguard-go",
            new[] { "-f", TunName },
            new Dictionary<string, string> { ["WG_PROCESS_FOREGROUND"] = "1", ["LOG_LEVEL"] = "verbose" },
            "wg-go " + TunName);

        await WaitForSocketAsync(cancellationToken);

        // The TUN goes into the namespace; the process (and with it the UDP socket) stays in the root namespace.
        await Runner.RunCheckedAsync("ip", new[] { "link", "set", TunName, "netns", Namespace }, cancellationToken: cancellationToken);

        // wireguard-go 0.0.20220316 already counts the device as up here, so setconf binds the UDP port at once and
        // fails when the port is taken; a port we picked ourselves is then replaced (bounded).
        for (var attempt = 1; ; attempt++)
        {
            ListenPort = _options.ListenPort != 0 ? _options.ListenPort : UdpPorts.GetFree();
            var setconf = await Runner.RunAsync("wg", new[] { "setconf", TunName, "/dev/stdin" }, TimeSpan.FromSeconds(10), BuildConfig(), cancellationToken: cancellationToken);
            if (setconf.Succeeded)
            {
                break;
            }

            if (_options.ListenPort != 0 || attempt >= 5)
            {
                setconf.EnsureSuccess();
            }
        }

        if (_options.Address6 is not null)
        {
            foreach (var setting in new[] { "all", "default", TunName })
            {
                await Runner.RunCheckedAsync("ip", new[] { "netns", "exec", Namespace, "sysctl", "-w", $"net.ipv6.conf.{setting}.disable_ipv6=0" }, cancellationToken: cancellationToken);
            }

            await Runner.RunCheckedAsync("ip", new[] { "-n", Namespace, "-6", "addr", "add", _options.Address6, "dev", TunName, "nodad" }, cancellationToken: cancellationToken);
        }

        await Runner.RunCheckedAsync("ip", new[] { "-n", Namespace, "addr", "add", _options.Address, "dev", TunName }, cancellationToken: cancellationToken);
        await Runner.RunCheckedAsync("ip", new[] { "-n", Namespace, "link", "set", TunName, "mtu", _options.Mtu.ToString(CultureInfo.InvariantCulture), "up" }, cancellationToken: cancellationToken);

        await WaitForDeviceUpAsync(cancellationToken);
        Runner.Log.Write($"ready: {this}, public key {PublicKey}");
    }

    private string BuildConfig()
    {
        var config = new StringBuilder();
        config.Append("[Interface]\n");
        config.Append("PrivateKey = ").Append(PrivateKey).Append('\n');
        config.Append("ListenPort = ").Append(ListenPort.ToString(CultureInfo.InvariantCulture)).Append('\n');
        config.Append("\n[Peer]\n");
        config.Append("PublicKey = ").Append(_options.PeerPublicKey).Append('\n');
        if (_options.PresharedKey is not null)
        {
            config.Append("PresharedKey = ").Append(_options.PresharedKey).Append('\n');
        }

        if (_options.PeerAllowedIps.Count > 0)
        {
            config.Append("AllowedIPs = ").Append(string.Join(", ", _options.PeerAllowedIps)).Append('\n');
        }

        if (_options.PeerEndpoint is not null)
        {
            config.Append("Endpoint = ").Append(_options.PeerEndpoint).Append('\n');
        }

        if (_options.PersistentKeepaliveSeconds is { } keepalive)
        {
            config.Append("PersistentKeepalive = ").Append(keepalive.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return config.ToString();
    }

    private async Task WaitForSocketAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(SocketPath))
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"wireguard-go {TunName} exited with {_process.ExitCode} before creating {SocketPath}:\n{string.Join('\n', _process.Lines)}");
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException($"wireguard-go {TunName} did not create {SocketPath} within 10 s:\n{string.Join('\n', _process.Lines)}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    private async Task WaitForDeviceUpAsync(CancellationToken cancellationToken)
    {
        // wireguard-go only binds its UDP port (and starts its peers) while its device is up; it derives that state
        // from the TUN (across namespaces by polling it once a second). Version 0.0.20220316 counts the device as up
        // right after start, so this normally returns at once; waiting on the bound port, not on a log line, keeps the
        // check independent of the version's log texts.
        var clock = Stopwatch.StartNew();
        while (UdpPorts.IsFree(ListenPort))
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"wireguard-go {TunName} exited with {_process.ExitCode}:\n{string.Join('\n', _process.Lines)}");
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(8))
            {
                throw new TimeoutException($"wireguard-go {TunName} did not bind UDP port {ListenPort} within 8 s (device not up?):\n{string.Join('\n', _process.Lines)}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    private static ConcurrentDictionary<WireGuardGoPeer, byte> CreateRegistry()
    {
        var live = new ConcurrentDictionary<WireGuardGoPeer, byte>();

        // Best effort when the test host is stopped with SIGTERM (the test host then exits without running
        // ProcessExit handlers) or exits without the fixture's cleanup: stop our wireguard-go children so they do not
        // outlive it. Ctrl-C reaches them anyway (same process group); after a SIGKILL the next run cleans up.
        void StopChildren()
        {
            foreach (var peer in live.Keys)
            {
                NativeMethods.Terminate(peer.ProcessId);
            }
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopChildren();
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => StopChildren());
        return live;
    }

    private static IPAddress ParseAddress(string withPrefix)
    {
        var slash = withPrefix.IndexOf('/', StringComparison.Ordinal);
        return IPAddress.Parse(slash < 0 ? withPrefix : withPrefix[..slash]);
    }
}
