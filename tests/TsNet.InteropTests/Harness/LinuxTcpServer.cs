using System.Globalization;
using System.Net;

namespace TsNet.InteropTests.Harness;

/// <summary>What a <see cref="LinuxTcpServer"/> does with its connection.</summary>
public enum LinuxTcpServerMode
{
    /// <summary>Accepts one connection and writes everything it receives to a file until the peer's FIN, then exits.</summary>
    Sink,

    /// <summary>Accepts one connection, sends a file, closes (FIN) and exits.</summary>
    Source,

    /// <summary>Accepts any number of connections and echoes each byte back until the peer closes.</summary>
    Echo,
}

/// <summary>
/// A TCP server of the Linux kernel behind a <see cref="WireGuardGoPeer"/>: <c>socat</c> listening inside the peer's
/// namespace on one of its overlay addresses. It is the far end for TsNet's <c>ConnectTcpAsync</c>: sink (receive to a
/// file, then SHA-256 it), source (send a file) or echo. Dispose stops socat (SIGTERM, then SIGKILL); never throws.
/// </summary>
public sealed class LinuxTcpServer : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private LinuxTcpServer(LinuxTcpServerMode mode, IPEndPoint endPoint, string? filePath, ChildProcess process)
    {
        Mode = mode;
        EndPoint = endPoint;
        FilePath = filePath;
        _process = process;
    }

    /// <summary>What the server does.</summary>
    public LinuxTcpServerMode Mode { get; }

    /// <summary>The overlay address and port it listens on.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The file received into (sink) or sent (source); null for echo.</summary>
    public string? FilePath { get; }

    /// <summary>socat's output so far (its <c>-d -d</c> notices: accepted peer, EOF, exit status).</summary>
    public IReadOnlyList<string> LogLines => _process.Lines;

    /// <summary>True once socat has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Sink: receives one connection into <paramref name="filePath"/> (created or truncated at accept time).</summary>
    public static Task<LinuxTcpServer> StartSinkAsync(WireGuardGoPeer peer, IPAddress address, int port, string filePath, CancellationToken cancellationToken = default) =>
        StartAsync(peer, LinuxTcpServerMode.Sink, address, port, filePath, cancellationToken);

    /// <summary>Source: sends <paramref name="filePath"/> (which must exist) to the first connection, then FIN.</summary>
    public static Task<LinuxTcpServer> StartSourceAsync(WireGuardGoPeer peer, IPAddress address, int port, string filePath, CancellationToken cancellationToken = default) =>
        StartAsync(peer, LinuxTcpServerMode.Source, address, port, filePath, cancellationToken);

    /// <summary>Echo: every connection gets its bytes back (one socat child per connection).</summary>
    public static Task<LinuxTcpServer> StartEchoAsync(WireGuardGoPeer peer, IPAddress address, int port, CancellationToken cancellationToken = default) =>
        StartAsync(peer, LinuxTcpServerMode.Echo, address, port, null, cancellationToken);

    /// <summary>
    /// Sink/source: waits (bounded) until socat has served its one connection and exited; throws
    /// <see cref="TimeoutException"/> when it is still running, <see cref="InvalidOperationException"/> when it failed.
    /// </summary>
    public async Task WaitForCompletionAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (Mode == LinuxTcpServerMode.Echo)
        {
            throw new InvalidOperationException("an echo server serves until it is disposed");
        }

        var exitCode = await _process.WaitForExitAsync(timeout, cancellationToken);
        if (exitCode is null)
        {
            throw new TimeoutException($"socat {Mode} on {EndPoint} has not finished its connection within {timeout.TotalSeconds:0.#} s:\n{string.Join('\n', _process.Lines)}");
        }

        if (exitCode != 0)
        {
            throw new InvalidOperationException($"socat {Mode} on {EndPoint} exited with {exitCode}:\n{string.Join('\n', _process.Lines)}");
        }
    }

    /// <summary>Sink: waits for the connection to end (see <see cref="WaitForCompletionAsync"/>) and digests what arrived.</summary>
    public async Task<TransferDigest> WaitForSinkAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (Mode != LinuxTcpServerMode.Sink)
        {
            throw new InvalidOperationException("not a sink");
        }

        await WaitForCompletionAsync(timeout, cancellationToken);
        return await TestData.DigestFileAsync(FilePath!, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _process.DisposeAsync();

    /// <inheritdoc/>
    public override string ToString() => $"socat {Mode} on {EndPoint}";

    private static async Task<LinuxTcpServer> StartAsync(WireGuardGoPeer peer, LinuxTcpServerMode mode, IPAddress address, int port, string? filePath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(address);
        var listen = Socat.Kind("TCP", address, "-LISTEN") + ":" + port.ToString(CultureInfo.InvariantCulture) + ",bind=" + Socat.Host(address) + ",reuseaddr";
        string[] args = mode switch
        {
            // -u: one direction only, left to right. The sink opens its file when the connection arrives.
            LinuxTcpServerMode.Sink => new[] { "-u", listen, "OPEN:" + Socat.FilePath(filePath!) + ",creat,trunc" },
            LinuxTcpServerMode.Source => new[] { "-u", "OPEN:" + Socat.FilePath(filePath!) + ",rdonly", listen },
            _ => new[] { listen + ",fork", "PIPE" },
        };
        if (mode == LinuxTcpServerMode.Source && !File.Exists(filePath))
        {
            throw new FileNotFoundException("the source file must exist", filePath);
        }

        var endPoint = new IPEndPoint(address, port);
        var process = await Socat.StartListenerAsync(peer, $"socat-tcp-{mode.ToString().ToLowerInvariant()} {Socat.HostPort(endPoint)}", args, cancellationToken);
        return new LinuxTcpServer(mode, endPoint, filePath, process);
    }
}
