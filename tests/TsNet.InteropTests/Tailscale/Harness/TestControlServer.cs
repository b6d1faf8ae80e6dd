using System.Globalization;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// <c>testcontrol-server</c> on 127.0.0.1 with a free port, started with <see cref="TestControlServerOptions"/>; ready
/// once it printed <c>TESTCONTROL_URL=</c> on stdout (bounded). Its output goes to <c>control-N.log</c> in the work
/// directory (kept and attached when the test fails). <see cref="RestartAsync"/> replaces it with a new server (new
/// keys, no nodes) on the same port. Dispose kills it and waits for it, also after a failed start.
/// </summary>
public sealed class TestControlServer : IAsyncDisposable
{
    /// <summary>Bound for the server to print its URL.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private const string UrlPrefix = "TESTCONTROL_URL=";

    private readonly TailscaleWorkDir _workDir;
    private TailscaleChild? _child;
    private int _starts;

    private TestControlServer(TailscaleWorkDir workDir, TestControlServerOptions options, int port)
    {
        _workDir = workDir;
        Options = options;
        Port = port;
        Url = "http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
        Admin = new TestControlAdmin(new Uri(Url), workDir.Log);
    }

    /// <summary>The flags it runs with.</summary>
    public TestControlServerOptions Options { get; }

    /// <summary>The listening port (the same after <see cref="RestartAsync"/>).</summary>
    public int Port { get; }

    /// <summary>The base URL, <c>http://127.0.0.1:PORT</c>: tailscale's <c>--login-server</c>.</summary>
    public string Url { get; }

    /// <summary>The admin API client.</summary>
    public TestControlAdmin Admin { get; }

    /// <summary>The current server process.</summary>
    public TailscaleChild Process => _child ?? throw new InvalidOperationException("the control server is not running");

    /// <summary>Starts the server; on a lost port race retries once with a new port.</summary>
    public static Task<TestControlServer> StartAsync(TailscaleWorkDir workDir, TestControlServerOptions? options = null, CancellationToken cancellationToken = default) =>
        StartAsync(workDir, options, firstPort: null, cancellationToken);

    /// <summary>Like <see cref="StartAsync(TailscaleWorkDir, TestControlServerOptions?, CancellationToken)"/>, trying <paramref name="firstPort"/> first (tests of the retry).</summary>
    internal static async Task<TestControlServer> StartAsync(TailscaleWorkDir workDir, TestControlServerOptions? options, int? firstPort, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workDir);
        TailscaleBinaries.EnsureAvailable();
        options ??= new TestControlServerOptions();
        for (var attempt = 1; ; attempt++)
        {
            var server = new TestControlServer(workDir, options, attempt == 1 && firstPort is { } port ? port : TailscalePorts.FreeTcp());
            string? failure;
            try
            {
                failure = await server.TryStartAsync(cancellationToken);
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }

            if (failure is null)
            {
                return server;
            }

            await server.DisposeAsync();
            if (attempt >= 2 || !TailscalePorts.IsBindConflict(failure))
            {
                throw new InvalidOperationException($"testcontrol-server did not start: {failure}");
            }

            workDir.Log.Write($"testcontrol-server lost the race for port {server.Port}; retrying with another port");
        }
    }

    /// <summary>
    /// Stops this server and starts a new one on the same port: new server keys, no nodes (the nodes' next poll fails
    /// and they must register again). Waits, bounded, for the port to be bindable again.
    /// </summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        if (_child is { } old)
        {
            _child = null;
            await old.DisposeAsync();
        }

        string? failure = null;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            failure = await TryStartAsync(cancellationToken);
            if (failure is null)
            {
                return;
            }

            if (_child is { } failed)
            {
                _child = null;
                await failed.DisposeAsync();
            }

            if (!TailscalePorts.IsBindConflict(failure))
            {
                break;
            }
        }

        throw new InvalidOperationException($"testcontrol-server did not restart on port {Port}: {failure}");
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_child is { } child)
        {
            _child = null;
            await child.DisposeAsync();
        }

        Admin.Dispose();
    }

    private async Task<string?> TryStartAsync(CancellationToken cancellationToken)
    {
        var number = Interlocked.Increment(ref _starts);
        var filterFile = _workDir.File("control-filter.json");
        if (Options.FilterRulesJson is { } rules)
        {
            await File.WriteAllTextAsync(filterFile, rules, cancellationToken);
        }

        var arguments = new List<string> { "-listen", "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture) };
        arguments.AddRange(Options.ToArguments(filterFile, _workDir.File("control-dump")));
        var logPath = _workDir.File($"control-{number}.log");
        var child = TailscaleChild.Start(
            TailscaleBinaries.PathOf(TailscaleBinaries.TestControlServerName), arguments, _workDir.Path, logPath, _workDir.Log, "control");
        _child = child;
        var line = await child.WaitForLineAsync(text => text.StartsWith(UrlPrefix, StringComparison.Ordinal), StartTimeout, cancellationToken);
        if (line is null)
        {
            if (child.HasExited)
            {
                // All output in the log file before it is read.
                await child.StopAsync(TimeSpan.Zero);
            }

            var reason = child.HasExited ? $"exited with {child.ExitCode}" : $"printed no {UrlPrefix} within {StartTimeout.TotalSeconds:0} s";
            var log = File.Exists(logPath) ? await File.ReadAllTextAsync(logPath, cancellationToken) : string.Empty;
            return $"{reason}; log {logPath}: {ProcessRunner.Truncate(log.Trim())}";
        }

        var printed = line[UrlPrefix.Length..].Trim();
        if (!string.Equals(printed, Url, StringComparison.Ordinal))
        {
            return $"printed {printed}, expected {Url}";
        }

        _workDir.Log.Write($"[control] ready at {Url}");
        return null;
    }
}
