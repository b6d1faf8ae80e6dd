using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// A TsNet node in control mode for the interop tests: an in-process <see cref="TailnetServer"/> with
/// <see cref="TailnetServerOptions.ControlUrl"/> = the harness's test control server, its state directory in the work
/// directory (<c>&lt;workdir&gt;/tsnet-&lt;name&gt;</c>, unless ephemeral), a free UDP port, and its log in the test
/// output prefixed with its name. Every <see cref="TailnetServer.StateChanged"/> is recorded from construction on, so
/// a test can wait for a state (bounded) without missing an early one. Dispose is bounded (a hung dispose is logged,
/// not waited out).
/// </summary>
public sealed class ControlModeNode : IAsyncDisposable
{
    /// <summary>Bound for one node to reach Running (registration + first netmap) on a loaded machine.</summary>
    public static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(15);

    private readonly TestLog _log;
    private readonly object _gate = new();
    private readonly List<TailnetStateChangedEventArgs> _changes = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private ControlModeNode(string name, TailnetServerOptions options, TestLog log)
    {
        Name = name;
        Options = options;
        _log = log;
        Server = new TailnetServer(options);
        Server.StateChanged += OnStateChanged;
    }

    /// <summary>Short name (log prefix; also the default host name).</summary>
    public string Name { get; }

    /// <summary>The options the node was made with.</summary>
    public TailnetServerOptions Options { get; }

    /// <summary>The node.</summary>
    public TailnetServer Server { get; }

    /// <summary>Every state change seen so far, in order.</summary>
    public IReadOnlyList<TailnetStateChangedEventArgs> StateChanges
    {
        get
        {
            lock (_gate)
            {
                return _changes.ToList();
            }
        }
    }

    /// <summary>The node's IPv4 tailnet address (100.64.0.0/10); throws when it has none (yet).</summary>
    public IPAddress IPv4 => Server.Addresses.Single(address => address.AddressFamily == AddressFamily.InterNetwork);

    /// <summary>The node key as the control server writes it, <c>nodekey:&lt;hex&gt;</c>.</summary>
    public string NodeKeyText => "nodekey:" + Convert.ToHexStringLower(Server.PublicKey.Bytes);

    /// <summary>
    /// Creates (does not start) a node. <paramref name="stateDirectory"/> null: <c>&lt;workdir&gt;/tsnet-NAME</c>, except
    /// for an ephemeral node (<paramref name="configure"/> sets <see cref="TailnetServerOptions.Ephemeral"/>), which gets none.
    /// </summary>
    public static ControlModeNode Create(
        TailscaleWorkDir workDir,
        string controlUrl,
        string name,
        string? authKey,
        Action<TailnetServerOptions>? configure = null,
        string? stateDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(workDir);
        var log = workDir.Log;
        var prefixed = new TestLog(line => log.Write($"[{name}] {StripTime(line)}"));
        var options = new TailnetServerOptions
        {
            ControlUrl = new Uri(controlUrl),
            AuthKey = authKey,
            Hostname = name,
            ListenPort = TailscalePorts.FreeUdp(),
            LoggerFactory = new TestLoggerFactory(prefixed, LogLevel.Debug),
        };
        configure?.Invoke(options);
        if (!options.Ephemeral || stateDirectory is not null)
        {
            options.StateDirectory = stateDirectory ?? workDir.Subdirectory("tsnet-" + name);
        }

        log.Write($"[{name}] node: control {controlUrl}, host name {options.Hostname}, UDP {options.ListenPort}, " +
                  $"state {options.StateDirectory ?? "(none)"}, auth key {(authKey is null ? "(none)" : "set")}, ephemeral {options.Ephemeral}");
        return new ControlModeNode(name, options, log);
    }

    /// <summary><see cref="TailnetServer.UpAsync"/>, bounded by <see cref="UpTimeout"/>; logs how long it took.</summary>
    public async Task UpAsync(CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(UpTimeout);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await Server.UpAsync(bound.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name}: not Running within {UpTimeout.TotalSeconds:0} s (state {Server.State}, changes: {DescribeChanges()})");
        }

        _log.Write($"[{Name}] Running after {clock.Elapsed.TotalMilliseconds:F0} ms: {string.Join(", ", Server.Addresses)} {Server.DnsName}");
    }

    /// <summary>Waits (bounded) until a recorded state change satisfies <paramref name="condition"/> and returns it.</summary>
    public async Task<TailnetStateChangedEventArgs> WaitForStateChangeAsync(
        Func<TailnetStateChangedEventArgs, bool> condition, TimeSpan timeout, string description, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(timeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_changes.FirstOrDefault(condition) is { } match)
                {
                    return match;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(bound.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{Name}: no state change {description} within {timeout.TotalSeconds:0} s (changes: {DescribeChanges()})");
            }
        }
    }

    /// <summary>Waits (bounded, polling every 100 ms) until <paramref name="condition"/> holds for the node.</summary>
    public Task WaitUntilAsync(Func<TailnetServer, bool> condition, TimeSpan timeout, string description, CancellationToken cancellationToken) =>
        Poll.UntilAsync(
            _ => Task.FromResult(condition(Server)),
            holds => holds,
            timeout,
            $"{Name}: {description} (state {Server.State}, addresses {string.Join(", ", Server.Addresses)}, peers {DescribePeers()})",
            cancellationToken,
            TimeSpan.FromMilliseconds(100));

    /// <summary>True when the node's status lists a peer with <paramref name="publicKey"/>.</summary>
    public bool HasPeer(WireGuardKey publicKey) => Server.GetStatus().Peers.Any(peer => peer.PublicKey == publicKey);

    /// <summary>The recorded state changes as text (for failure messages).</summary>
    public string DescribeChanges()
    {
        lock (_gate)
        {
            return _changes.Count == 0
                ? "none"
                : string.Join(" → ", _changes.Select(change => change.State + (change.AuthUrl is null ? string.Empty : $"({change.AuthUrl})") +
                                                              (change.Exception is null ? string.Empty : $"({change.Exception.GetType().Name}: {change.Exception.Message})")));
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await Server.DisposeAsync().AsTask().WaitAsync(DisposeTimeout);
        }
        catch (TimeoutException)
        {
            _log.Write($"[{Name}] dispose did not complete within {DisposeTimeout.TotalSeconds:0} s");
        }
        finally
        {
            Server.StateChanged -= OnStateChanged;
        }
    }

    private static string StripTime(string line) =>

        // TestLog stamps "HH:mm:ss.fff " in front; the outer log stamps again.
        line.Length > 13 && line[2] == ':' && line[12] == ' ' ? line[13..] : line;

    private string DescribePeers()
    {
        try
        {
            return string.Join("; ", Server.GetStatus().Peers.Select(peer => $"{peer.Name ?? peer.PublicKey.ToString()} {peer.Endpoint} {peer.SessionState}"));
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            return e.Message;
        }
    }

    private void OnStateChanged(object? sender, TailnetStateChangedEventArgs change)
    {
        _log.Write($"[{Name}] state {change.State}{(change.AuthUrl is null ? string.Empty : " auth " + change.AuthUrl)}{(change.Exception is null ? string.Empty : " " + change.Exception.Message)}");
        TaskCompletionSource signal;
        lock (_gate)
        {
            _changes.Add(change);
            signal = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        signal.TrySetResult();
    }
}
