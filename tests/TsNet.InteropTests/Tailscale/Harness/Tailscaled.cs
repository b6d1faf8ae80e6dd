using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// A userspace-networking <c>tailscaled</c> (no TUN, no root needed) in its own subdirectory of the work directory:
/// state there (or <c>mem:</c> when ephemeral), its socket, a free UDP port, a SOCKS5 server on a free 127.0.0.1
/// port, <c>TS_LOGS_DIR</c> there and its output in <c>tailscaled.log</c> there (attached to the test output when the
/// test fails). Ready once <c>tailscale status</c> answers on its socket (bounded). The CLI helpers run
/// <c>tailscale --socket=…</c> with a timeout. Dispose stops it (SIGTERM, then SIGKILL).
/// </summary>
public sealed class Tailscaled : IAsyncDisposable
{
    /// <summary>Bound for the daemon to answer on its socket.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Bound for <c>tailscale up</c> (passed as its <c>--timeout</c>, plus a margin for the process).</summary>
    public static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(30);

    private readonly TailscaleWorkDir _workDir;
    private readonly ProcessRunner _runner;
    private TailscaleChild? _child;

    private Tailscaled(TailscaleWorkDir workDir, TailscaledOptions options, string directory)
    {
        _workDir = workDir;
        _runner = new ProcessRunner(workDir.Log);
        Options = options;
        Directory = directory;
        SocketPath = Path.Combine(directory, "sock");
    }

    /// <summary>How it runs.</summary>
    public TailscaledOptions Options { get; }

    /// <summary>Short name (log prefix, subdirectory).</summary>
    public string Name => Options.Name;

    /// <summary>Its directory: state, socket, logs.</summary>
    public string Directory { get; }

    /// <summary>The local API socket (<c>tailscale --socket</c>).</summary>
    public string SocketPath { get; }

    /// <summary>The WireGuard/disco UDP port (<c>--port</c>).</summary>
    public int Port { get; private set; }

    /// <summary>The SOCKS5 proxy port on 127.0.0.1 (names are resolved by tailscaled: use <c>socks5h</c>).</summary>
    public int Socks5Port { get; private set; }

    /// <summary>The outbound HTTP proxy port on 127.0.0.1 when <see cref="TailscaledOptions.HttpProxy"/>, else 0.</summary>
    public int HttpProxyPort { get; private set; }

    /// <summary>The daemon process.</summary>
    public TailscaleChild Process => _child ?? throw new InvalidOperationException($"{Name} is not running");

    /// <summary>Starts the daemon and waits until its socket answers; on a lost port race retries once with new ports.</summary>
    public static async Task<Tailscaled> StartAsync(TailscaleWorkDir workDir, TailscaledOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workDir);
        TailscaleBinaries.EnsureAvailable();
        options ??= new TailscaledOptions();
        var node = new Tailscaled(workDir, options, workDir.Subdirectory(options.Name));
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var failure = await node.TryStartAsync(attempt, cancellationToken);
                if (failure is null)
                {
                    return node;
                }

                var stopped = node._child;
                node._child = null;
                if (stopped is not null)
                {
                    await stopped.DisposeAsync();
                }

                if (attempt >= 2 || !TailscalePorts.IsBindConflict(failure))
                {
                    throw new InvalidOperationException($"tailscaled {options.Name} did not start: {failure}");
                }

                workDir.Log.Write($"[{options.Name}] lost the race for a port; retrying with other ports");
            }
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <c>tailscale --socket=SOCKET ARGS…</c>, bounded (default 30 s).</summary>
    public Task<CommandResult> RunCliAsync(IEnumerable<string> arguments, TimeSpan? timeout = null, bool quiet = false, CancellationToken cancellationToken = default)
    {
        var all = new List<string> { "--socket=" + SocketPath };
        all.AddRange(arguments);
        return _runner.RunAsync(TailscaleBinaries.PathOf(TailscaleBinaries.TailscaleName), all, timeout, null, quiet, cancellationToken);
    }

    /// <summary>
    /// <c>tailscale up --login-server=… [--authkey=…] --hostname=… EXTRA… --timeout=30s</c>; returns the result (a
    /// refused login exits non-zero with the server's message in its output). Without an auth key against a server with
    /// <c>-require-auth</c> it prints the login URL and waits until the login is completed.
    /// </summary>
    public Task<CommandResult> TryUpAsync(string loginServer, string? authKey, string hostname, IEnumerable<string>? extraArguments = null, CancellationToken cancellationToken = default)
    {
        var arguments = new List<string> { "up", "--login-server=" + loginServer, "--hostname=" + hostname };
        if (authKey is not null)
        {
            arguments.Add("--authkey=" + authKey);
        }

        arguments.AddRange(extraArguments ?? Array.Empty<string>());
        arguments.Add("--timeout=" + ((int)UpTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s");
        return RunCliAsync(arguments, UpTimeout + TimeSpan.FromSeconds(10), cancellationToken: cancellationToken);
    }

    /// <summary>Like <see cref="TryUpAsync"/> but throws (with the command's output) unless <c>up</c> succeeded.</summary>
    public async Task UpAsync(string loginServer, string? authKey, string hostname, IEnumerable<string>? extraArguments = null, CancellationToken cancellationToken = default) =>
        (await TryUpAsync(loginServer, authKey, hostname, extraArguments, cancellationToken)).EnsureSuccess();

    /// <summary><c>tailscale status --json</c>, parsed.</summary>
    public async Task<TailscaleStatus> StatusJsonAsync(bool quiet = false, CancellationToken cancellationToken = default)
    {
        var result = await RunCliAsync(new[] { "status", "--json" }, TimeSpan.FromSeconds(10), quiet, cancellationToken);
        result.EnsureSuccess();
        return TailscaleStatus.Parse(result.StandardOutput);
    }

    /// <summary>
    /// Polls the status (every 200 ms, bounded) until <paramref name="condition"/> holds and returns that status;
    /// throws with the last status when <paramref name="timeout"/> passes first.
    /// </summary>
    public async Task<TailscaleStatus> WaitForStatusAsync(Func<TailscaleStatus, bool> condition, TimeSpan timeout, string description, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        TailscaleStatus? last = null;
        string? lastError = null;
        while (true)
        {
            try
            {
                last = await StatusJsonAsync(quiet: true, cancellationToken);
                lastError = null;
                if (condition(last))
                {
                    _workDir.Log.Write($"[{Name}] status: {description} after {clock.Elapsed.TotalSeconds:0.0} s");
                    return last;
                }
            }
            catch (Exception e) when (e is InvalidOperationException or JsonException)
            {
                lastError = e.Message;
            }

            if (clock.Elapsed >= timeout)
            {
                throw new TimeoutException(
                    $"{Name}: not {description} within {timeout.TotalSeconds:0} s; last status: {lastError ?? ProcessRunner.Truncate(last?.RawJson ?? "none")}");
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>
    /// <c>tailscale ping -c COUNT TARGET</c> (stops at the first direct pong); returns the first
    /// <c>pong from NAME (IP) via PATH in T</c> line, or throws with the output when no pong came back.
    /// </summary>
    public async Task<string> PingAsync(string target, int count = 10, CancellationToken cancellationToken = default)
    {
        // Each ping waits up to 5 s (tailscale's default) for its pong.
        var result = await RunCliAsync(
            new[] { "ping", "-c", count.ToString(CultureInfo.InvariantCulture), target },
            TimeSpan.FromSeconds((count * 5) + 10),
            cancellationToken: cancellationToken);
        var pong = result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries)
            .FirstOrDefault(line => line.StartsWith("pong from ", StringComparison.Ordinal));
        return pong ?? throw new InvalidOperationException($"{Name}: no pong from {target}: {result}");
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_child is { } child)
        {
            _child = null;
            await child.DisposeAsync();
        }
    }

    private async Task<string?> TryStartAsync(int attempt, CancellationToken cancellationToken)
    {
        Port = TailscalePorts.FreeUdp();
        Socks5Port = TailscalePorts.FreeTcp();
        HttpProxyPort = Options.HttpProxy ? TailscalePorts.FreeTcp() : 0;
        var arguments = new List<string>
        {
            "--tun=userspace-networking",
            Options.Ephemeral ? "--state=mem:" : "--statedir=" + Directory,
            "--socket=" + SocketPath,
            "--port=" + Port.ToString(CultureInfo.InvariantCulture),
            "--socks5-server=127.0.0.1:" + Socks5Port.ToString(CultureInfo.InvariantCulture),
            "--no-logs-no-support",
        };
        if (Options.HttpProxy)
        {
            arguments.Add("--outbound-http-proxy-listen=127.0.0.1:" + HttpProxyPort.ToString(CultureInfo.InvariantCulture));
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["TS_LOGS_DIR"] = Directory };
        if (Options.DerpOnly)
        {
            environment["TS_DEBUG_ALWAYS_USE_DERP"] = "true";
        }

        foreach (var (key, value) in Options.Environment ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var logPath = Path.Combine(Directory, attempt == 1 ? "tailscaled.log" : $"tailscaled-{attempt}.log");
        var child = TailscaleChild.Start(
            TailscaleBinaries.PathOf(TailscaleBinaries.TailscaledName), arguments, Directory, logPath, _workDir.Log, Name, environment);
        _child = child;

        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (child.HasExited)
            {
                // Output is complete once the process is reaped.
                await child.StopAsync(TimeSpan.Zero);
                var log = File.Exists(logPath) ? await File.ReadAllTextAsync(logPath, cancellationToken) : string.Empty;
                return $"exited with {child.ExitCode}; log {logPath}: {ProcessRunner.Truncate(log.Trim())}";
            }

            if (File.Exists(SocketPath))
            {
                var status = await RunCliAsync(new[] { "status", "--json" }, TimeSpan.FromSeconds(10), quiet: true, cancellationToken);
                if (status.Succeeded)
                {
                    _workDir.Log.Write($"[{Name}] ready: UDP {Port}, SOCKS5 127.0.0.1:{Socks5Port}, socket {SocketPath}");
                    return null;
                }
            }

            if (clock.Elapsed >= StartTimeout)
            {
                return $"its socket {SocketPath} did not answer within {StartTimeout.TotalSeconds:0} s";
            }

            await Task.Delay(100, cancellationToken);
        }
    }
}
