using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace TsNet.Tool.LocalApi;

/// <summary>
/// Serves the local API (<see cref="LocalApiProtocol"/>) of a running node on a Unix domain socket, mode 0600 — never
/// on the network. A socket file left by a node that is gone is replaced; a live one is an error (two nodes need two
/// paths). At most <see cref="MaxConnections"/> requests run at once (more wait in the listen backlog). Disposing
/// stops serving and deletes the socket file.
/// </summary>
internal sealed class LocalApiServer : IAsyncDisposable
{
    /// <summary>Requests served at once.</summary>
    public const int MaxConnections = 8;

    /// <summary>How long a client has to send its request line.</summary>
    private static readonly TimeSpan s_requestReadLimit = TimeSpan.FromSeconds(5);

    /// <summary>How long disposal waits for requests in flight (a long ping is cut short by the stop).</summary>
    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(2);

    private readonly Socket _listener;
    private readonly LocalApiRequestHandler _handler;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots = new(MaxConnections, MaxConnections);
    private readonly Task _acceptLoop;
    private int _disposed;

    private LocalApiServer(string path, Socket listener, LocalApiRequestHandler handler, ILogger logger)
    {
        SocketPath = path;
        _listener = listener;
        _handler = handler;
        _logger = logger;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The socket's full path.</summary>
    public string SocketPath { get; }

    /// <summary>Serves <paramref name="node"/>'s local API on <paramref name="path"/>.</summary>
    /// <exception cref="LocalApiException">The path cannot be served: another node answers there, it is no socket, its directory cannot be made, ...</exception>
    public static LocalApiServer Start(string path, TailnetServer node, ILogger logger, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(logger);
        if (OperatingSystem.IsWindows())
        {
            throw new LocalApiException("the local API needs Unix file modes (0600); it is not served on Windows");
        }

        path = Path.GetFullPath(path);
        UnixDomainSocketEndPoint endpoint;
        try
        {
            endpoint = new UnixDomainSocketEndPoint(path);
        }
        catch (ArgumentException e)
        {
            throw new LocalApiException($"{path}: not usable as a socket path ({e.Message}); choose a shorter --socket", e);
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            PrepareSocketPath(path, endpoint, logger);

            // Bound, narrowed to 0600, and only then listening: no client can connect before the mode is set.
            listener.Bind(endpoint);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(MaxConnections);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            listener.Dispose();
            throw new LocalApiException($"cannot serve the local API on {path}: {e.Message}", e);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        LocalApiLog.Serving(logger, path);
        return new LocalApiServer(path, listener, new LocalApiRequestHandler(node, timeProvider ?? TimeProvider.System), logger);
    }

    /// <summary>Makes the directory (0700) if needed and clears the path: a stale socket goes, anything else stays and fails the start.</summary>
    private static void PrepareSocketPath(string path, UnixDomainSocketEndPoint endpoint, ILogger logger)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory) && !OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        if (Directory.Exists(path))
        {
            throw new LocalApiException($"{path} is a directory; the local API needs a file path (--socket)");
        }

        if (!File.Exists(path))
        {
            return;
        }

        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(endpoint);
                throw new LocalApiException($"another node answers on {path}: give this one its own --socket PATH or --state DIR") { PathTaken = true };
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // Nobody listens: a socket (or another file) left behind.
            }
        }

        if (!IsSocketFile(path))
        {
            throw new LocalApiException($"{path} exists and is not a socket; remove it or choose another --socket");
        }

        File.Delete(path);
        LocalApiLog.ReplacedStaleSocket(logger, path);
    }

    /// <summary>True for a socket file: open(2) refuses sockets (ENXIO), while it opens a regular file.</summary>
    private static bool IsSocketFile(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task AcceptLoopAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await _slots.WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || (e is SocketException && token.IsCancellationRequested))
            {
                _slots.Release();
                return;
            }
            catch (SocketException e)
            {
                // A failed accept (the client went away, descriptors short) ends that connection, not the service.
                _slots.Release();
                LocalApiLog.RequestFailed(_logger, e.Message);
                continue;
            }

            _ = ServeAsync(connection, token);
        }
    }

    private async Task ServeAsync(Socket connection, CancellationToken stopping)
    {
        try
        {
            using (connection)
            {
                string? request;
                using (var readLimit = CancellationTokenSource.CreateLinkedTokenSource(stopping))
                {
                    readLimit.CancelAfter(s_requestReadLimit);
                    request = await new SocketLineReader(connection, LocalApiProtocol.MaxRequestBytes).ReadLineAsync(readLimit.Token).ConfigureAwait(false);
                }

                if (request is null)
                {
                    return;
                }

                await _handler.HandleAsync(request, (line, ct) => SendAllAsync(connection, line, ct), stopping).ConfigureAwait(false);
                connection.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The client left, sent no request in time or too long a line, or the node is stopping (or a bug hit one
            // request): that request ends, the service goes on.
            LocalApiLog.RequestFailed(_logger, e.Message);
        }
        finally
        {
            _slots.Release();
        }
    }

    private static async ValueTask SendAllAsync(Socket connection, byte[] line, CancellationToken cancellationToken)
    {
        for (var sent = 0; sent < line.Length;)
        {
            sent += await connection.SendAsync(line.AsMemory(sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);

        // Every slot back means every request has ended; a request still running after the grace is left to finish
        // against a stopped token (it only writes to its own connection).
        for (var taken = 0; taken < MaxConnections; taken++)
        {
            if (!await _slots.WaitAsync(s_stopGrace).ConfigureAwait(false))
            {
                break;
            }
        }

        try
        {
            File.Delete(SocketPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LocalApiLog.RequestFailed(_logger, e.Message);
        }

        _stop.Dispose();
    }
}
