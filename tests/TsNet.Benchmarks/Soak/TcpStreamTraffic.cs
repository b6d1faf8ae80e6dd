using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TsNet.Benchmarks.Soak;

/// <summary>
/// The soak's TCP load: <see cref="SoakOptions.Streams"/> workers, each opening one stream after another between a
/// random pair of nodes with a random size (log-uniform) and direction. A stream starts with a header (mode, seed,
/// length); the receiving side regenerates the payload from the seed and compares every byte, then the side that
/// verified reports a one-byte verdict and the accepting side closes first. Streams that move nothing for
/// <see cref="SoakOptions.StallTimeout"/> are aborted as stalled.
/// </summary>
internal sealed class TcpStreamTraffic
{
    /// <summary>The port every node accepts soak streams on.</summary>
    public const int Port = 7100;

    private const uint Magic = 0x4B414F53; // "SOAK"
    private const int HeaderBytes = 24;
    private const byte ModeUpload = 1;
    private const byte ModeDownload = 2;
    private const byte VerdictOk = 1;
    private const byte VerdictMismatch = 0;

    private readonly SoakMesh _mesh;
    private readonly PeerChurn _churn;
    private readonly SoakOptions _options;
    private readonly List<TailnetListener> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private int _activeHandlers;

    public TcpStreamTraffic(SoakMesh mesh, PeerChurn churn, SoakOptions options)
    {
        _mesh = mesh;
        _churn = churn;
        _options = options;
    }

    /// <summary>Stream outcomes and verified bytes.</summary>
    public StreamOutcomes Outcomes { get; } = new();

    /// <summary>Accepted streams whose handler has not finished.</summary>
    public int ActiveHandlers => Volatile.Read(ref _activeHandlers);

    /// <summary>Listens on every node; handlers stop at <paramref name="hardStop"/>.</summary>
    public async Task StartListenersAsync(CancellationToken hardStop)
    {
        foreach (var node in _mesh.Nodes)
        {
            var listener = await node.Server.ListenTcpAsync(Port, hardStop);
            _listeners.Add(listener);
            _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(listener, hardStop)));
        }
    }

    /// <summary>
    /// Runs the workers until <paramref name="stopStarting"/> (no new streams); streams still running at
    /// <paramref name="hardStop"/> are cut and counted as such.
    /// </summary>
    public Task RunClientsAsync(CancellationToken stopStarting, CancellationToken hardStop) =>
        Task.WhenAll(Enumerable.Range(0, _options.Streams).Select(worker => Task.Run(() => WorkerAsync(worker, stopStarting, hardStop))));

    /// <summary>Closes the listeners and waits for the accept loops.</summary>
    public async Task StopListenersAsync()
    {
        foreach (var listener in _listeners)
        {
            await listener.DisposeAsync();
        }

        await Task.WhenAll(_acceptLoops).WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task WorkerAsync(int worker, CancellationToken stopStarting, CancellationToken hardStop)
    {
        var random = new Random(HashCode.Combine(_options.Seed, worker));
        var block = ArrayPool<byte>.Shared.Rent(StreamPayload.BlockBytes);
        var buffer = ArrayPool<byte>.Shared.Rent(StreamPayload.BlockBytes);
        try
        {
            while (!stopStarting.IsCancellationRequested)
            {
                var from = _mesh.Nodes[random.Next(_mesh.Nodes.Count)];
                var to = _mesh.Nodes[(from.Index + 1 + random.Next(_mesh.Nodes.Count - 1)) % _mesh.Nodes.Count];
                var length = LogUniform(random, _options.MinStreamBytes, _options.MaxStreamBytes);
                var mode = random.Next(2) == 0 ? ModeUpload : ModeDownload;
                var seed = (ulong)random.NextInt64();
                await RunStreamAsync(from, to, mode, seed, length, block, buffer, hardStop);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task RunStreamAsync(SoakNode from, SoakNode to, byte mode, ulong seed, long length, byte[] block, byte[] buffer, CancellationToken hardStop)
    {
        Outcomes.AddStarted();
        var started = Stopwatch.GetTimestamp();
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(hardStop);
        stall.CancelAfter(_options.StallTimeout);
        var progress = new Progress(stall, _options.StallTimeout);
        TailnetConnection? connection = null;
        var clean = false;
        try
        {
            connection = await from.Server.ConnectTcpAsync(new IPEndPoint(to.Address, Port), stall.Token);
            var header = buffer.AsMemory(0, HeaderBytes);
            WriteHeader(header.Span, mode, seed, length);
            await connection.WriteAsync(header, stall.Token);
            var payload = new StreamPayload(seed, block);
            if (mode == ModeUpload)
            {
                await SendPayloadAsync(connection, payload, length, progress, stall.Token);
                await connection.ReadExactlyAsync(buffer.AsMemory(0, 1), stall.Token);
                if (buffer[0] != VerdictOk)
                {
                    throw new PayloadMismatchException("the accepting side found a mismatch");
                }
            }
            else
            {
                await ReceivePayloadAsync(connection, payload, length, buffer, progress, stall.Token);
                buffer[0] = VerdictOk;
                await connection.WriteAsync(buffer.AsMemory(0, 1), stall.Token);
            }

            // The accepting side closes first; its FIN ends the stream.
            if (await connection.ReadAsync(buffer.AsMemory(0, 1), stall.Token) != 0)
            {
                throw new PayloadMismatchException("bytes after the verdict");
            }

            clean = true;
            Outcomes.AddOk();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (hardStop.IsCancellationRequested)
            {
                Outcomes.AddCut();
            }
            else
            {
                var reason = ex is OperationCanceledException && stall.IsCancellationRequested ? $"stalled (no progress for {_options.StallTimeout.TotalSeconds:0} s)" : Reason(ex);
                var expected = ex is not PayloadMismatchException && _churn.IsChurnedPair(from, to) && _churn.Overlaps(started, Stopwatch.GetTimestamp());
                Outcomes.AddFailure($"{from.Name}->{to.Name} {(mode == ModeUpload ? "upload" : "download")}: {reason}", expected);
            }
        }
        finally
        {
            if (connection is not null)
            {
                if (!clean)
                {
                    connection.Abort();
                }

                await connection.DisposeAsync();
            }
        }
    }

    private async Task AcceptLoopAsync(TailnetListener listener, CancellationToken hardStop)
    {
        try
        {
            while (await listener.AcceptAsync(hardStop) is { } connection)
            {
                Interlocked.Increment(ref _activeHandlers);
                _ = Task.Run(() => HandleAsync(connection, hardStop));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private async Task HandleAsync(TailnetConnection connection, CancellationToken hardStop)
    {
        var block = ArrayPool<byte>.Shared.Rent(StreamPayload.BlockBytes);
        var buffer = ArrayPool<byte>.Shared.Rent(StreamPayload.BlockBytes);
        // A little longer than the connecting side's, so the side that records the outcome notices a stall first.
        var stallTimeout = _options.StallTimeout + TimeSpan.FromSeconds(10);
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(hardStop);
        stall.CancelAfter(stallTimeout);
        var progress = new Progress(stall, stallTimeout);
        var clean = false;
        try
        {
            await connection.ReadExactlyAsync(buffer.AsMemory(0, HeaderBytes), stall.Token);
            var (mode, seed, length) = ReadHeader(buffer);
            var payload = new StreamPayload(seed, block);
            if (mode == ModeUpload)
            {
                var verdict = VerdictOk;
                try
                {
                    await ReceivePayloadAsync(connection, payload, length, buffer, progress, stall.Token);
                }
                catch (PayloadMismatchException ex)
                {
                    Outcomes.AddServerSide(ex.Message);
                    verdict = VerdictMismatch;
                }

                buffer[0] = verdict;
                await connection.WriteAsync(buffer.AsMemory(0, 1), stall.Token);
            }
            else
            {
                await SendPayloadAsync(connection, payload, length, progress, stall.Token);
                await connection.ReadExactlyAsync(buffer.AsMemory(0, 1), stall.Token);
            }

            clean = true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (!hardStop.IsCancellationRequested)
            {
                Outcomes.AddServerSide(ex is OperationCanceledException ? "stalled" : Reason(ex));
            }
        }
        finally
        {
            if (!clean)
            {
                connection.Abort();
            }

            await connection.DisposeAsync();
            ArrayPool<byte>.Shared.Return(block);
            ArrayPool<byte>.Shared.Return(buffer);
            Interlocked.Decrement(ref _activeHandlers);
        }
    }

    private static async Task SendPayloadAsync(TailnetConnection connection, StreamPayload payload, long length, Progress progress, CancellationToken cancellationToken)
    {
        for (long offset = 0; offset < length;)
        {
            var chunk = payload.At(offset, (int)Math.Min(length - offset, StreamPayload.BlockBytes));
            await connection.WriteAsync(chunk, cancellationToken);
            offset += chunk.Length;
            progress.Report();
        }
    }

    private async Task ReceivePayloadAsync(TailnetConnection connection, StreamPayload payload, long length, byte[] buffer, Progress progress, CancellationToken cancellationToken)
    {
        for (long offset = 0; offset < length;)
        {
            var read = await connection.ReadAsync(buffer.AsMemory(0, (int)Math.Min(length - offset, buffer.Length)), cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException($"the stream ended after {offset} of {length} bytes");
            }

            var mismatch = payload.Mismatch(offset, buffer.AsSpan(0, read));
            if (mismatch >= 0)
            {
                throw new PayloadMismatchException($"byte {offset + mismatch} of {length} differs");
            }

            Outcomes.AddVerified(read);
            offset += read;
            progress.Report();
        }
    }

    private static void WriteHeader(Span<byte> header, byte mode, ulong seed, long length)
    {
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        header[4] = mode;
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], seed);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], length);
    }

    private static (byte Mode, ulong Seed, long Length) ReadHeader(ReadOnlySpan<byte> header)
    {
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic || header[4] is not (ModeUpload or ModeDownload))
        {
            throw new PayloadMismatchException("bad stream header");
        }

        return (header[4], BinaryPrimitives.ReadUInt64LittleEndian(header[8..]), BinaryPrimitives.ReadInt64LittleEndian(header[16..]));
    }

    private static long LogUniform(Random random, long min, long max) =>
        (long)Math.Exp(Math.Log(min) + (random.NextDouble() * (Math.Log(max) - Math.Log(min))));

    /// <summary>A failure's reason without per-stream details (so equal causes group).</summary>
    private static string Reason(Exception ex)
    {
        var socket = ex as SocketException ?? ex.InnerException as SocketException;
        return socket is not null ? $"{ex.GetType().Name} ({socket.SocketErrorCode})" : ex is PayloadMismatchException ? "corrupt: " + ex.Message : ex.GetType().Name;
    }

    /// <summary>Re-arms a stream's stall timer whenever bytes move.</summary>
    private sealed class Progress(CancellationTokenSource stall, TimeSpan timeout)
    {
        public void Report()
        {
            try
            {
                stall.CancelAfter(timeout);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
