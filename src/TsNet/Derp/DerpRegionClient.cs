using System.Buffers;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TsNet.Control.Protocol;
using TsNet.Dataplane;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Protocol;

namespace TsNet.Derp;

/// <summary>
/// The connection to one DERP region: a bounded send queue that outlives reconnects (packets queued while
/// connecting go once connected) and one task that connects, runs the connection and reconnects with backoff until
/// the region is closed (dropped from the map, idle, or the set disposed).
/// </summary>
internal sealed class DerpRegionClient
{
    /// <summary>Whole connect bound: TCP + TLS + upgrade + handshake (derp.md §1).</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>First reconnect delay; doubles per failure.</summary>
    public static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(100);

    /// <summary>Reconnect delay cap (Go's magicsock backs off up to 5 s per region).</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>A connection that lasted this long was healthy: the next reconnect starts the backoff over.</summary>
    public static readonly TimeSpan StableConnection = TimeSpan.FromSeconds(5);

    private readonly DerpClientSet _set;
    private readonly Channel<DerpOutboundFrame> _queue;
    private readonly CancellationTokenSource _lifetime;
    private DERPRegion _region;
    private DerpConnection? _connection;
    private string? _lastError;
    private string? _closeReason;
    private long _lastUsed;
    private long _lastRead;
    private long _sent;
    private long _received;
    private long _drops;
    private volatile bool _preferred;
    private volatile bool _connected;

    /// <summary>Creates the client (not started).</summary>
    internal DerpRegionClient(DerpClientSet set, DerpClientContext shared, DERPRegion region, bool preferred, CancellationToken setLifetime)
    {
        _set = set;
        Shared = shared;
        _region = region;
        RegionId = region.RegionID;
        Address = UnderlayAddress.Derp(RegionId);
        _preferred = preferred;
        _queue = Channel.CreateBounded<DerpOutboundFrame>(new BoundedChannelOptions(shared.SendQueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _lifetime = CancellationTokenSource.CreateLinkedTokenSource(setLifetime);
        _lastUsed = _lastRead = TimeProvider.GetTimestamp();
        Task = Task.CompletedTask;
    }

    /// <summary>The region ID.</summary>
    public int RegionId { get; }

    /// <summary>"Via DERP region N": the source of every packet received here.</summary>
    public UnderlayAddress Address { get; }

    /// <summary>The connect-and-reconnect task (completes when the region is closed).</summary>
    public Task Task { get; private set; }

    /// <summary>The region as last given by the map.</summary>
    public DERPRegion Region
    {
        get => Volatile.Read(ref _region);
        set => Volatile.Write(ref _region, value);
    }

    /// <summary>This is the home region (NotePreferred 1).</summary>
    public bool Preferred => _preferred;

    /// <summary>The handshake completed and the connection is up.</summary>
    public bool IsConnected => _connected;

    /// <summary>Closed: dropped from the set (a send to it fails; a new client takes its place).</summary>
    public bool IsClosed => _lifetime.IsCancellationRequested;

    /// <summary>What every region of the set shares.</summary>
    internal DerpClientContext Shared { get; }

    internal TimeProvider TimeProvider => Shared.TimeProvider;

    internal byte[] NodePrivateKey => Shared.NodePrivateKey;

    internal byte[] NodePublicKey => Shared.NodePublicKey;

    internal PacketBufferPool Pool => Shared.Pool;

    internal ChannelWriter<UnderlayDatagram> Inbound => Shared.Inbound;

    internal ChannelReader<DerpOutboundFrame> Queue => _queue.Reader;

    private ILogger Logger => Shared.Logger;

    /// <summary>Starts the connect loop.</summary>
    public void Start() => Task = RunAsync();

    /// <summary>
    /// Copies a packet into a pooled SendPacket frame and queues it (dataplane loop; never blocks, no allocation).
    /// False, counted, when the queue is full or the region closed.
    /// </summary>
    public bool TryEnqueue(ReadOnlySpan<byte> destinationKey, ReadOnlySpan<byte> packet)
    {
        var frameLength = DerpProtocol.SendPacketOverhead + packet.Length;
        DerpOutboundFrame frame;
        if (frameLength <= Pool.BufferSize)
        {
            var buffer = Pool.Rent(0);
            DerpFrameWriter.WriteSendPacket(buffer.Array, destinationKey, packet);
            buffer.SetRange(0, frameLength);
            frame = new DerpOutboundFrame(buffer);
        }
        else
        {
            var array = ArrayPool<byte>.Shared.Rent(frameLength);
            DerpFrameWriter.WriteSendPacket(array, destinationKey, packet);
            frame = new DerpOutboundFrame(array, frameLength);
        }

        if (!_queue.Writer.TryWrite(frame))
        {
            frame.Return();
            CountSendDrop();
            return false;
        }

        Volatile.Write(ref _lastUsed, TimeProvider.GetTimestamp());
        return true;
    }

    /// <summary>Marks this region home or not; the writer sends NotePreferred with its next batch (woken here).</summary>
    public void SetPreferred(bool preferred)
    {
        if (_preferred == preferred)
        {
            return;
        }

        _preferred = preferred;
        Volatile.Write(ref _lastUsed, TimeProvider.GetTimestamp());

        WakeWriter();
    }

    /// <summary>
    /// Ends a writer's wait on the queue (home change, connection end). A full queue needs no wake-up: the writer is
    /// not waiting then, and it checks its flags every batch.
    /// </summary>
    internal void WakeWriter() => _queue.Writer.TryWrite(default);

    /// <summary>Not home and no send for <paramref name="idleTimeout"/>.</summary>
    public bool IsIdle(long now, TimeSpan idleTimeout) =>
        !_preferred && TimeProvider.GetElapsedTime(Volatile.Read(ref _lastUsed), now) >= idleTimeout;

    /// <summary>Aborts a connection that has delivered no frame for <paramref name="readTimeout"/> (it then reconnects).</summary>
    public void CheckReadTimeout(long now, TimeSpan readTimeout)
    {
        var connection = Volatile.Read(ref _connection);
        if (connection is not null && TimeProvider.GetElapsedTime(Volatile.Read(ref _lastRead), now) >= readTimeout)
        {
            DerpLog.ReadTimeout(Logger, RegionId, (long)readTimeout.TotalSeconds);
            connection.Abort();
        }
    }

    /// <summary>Stops the region (its task ends, queued frames go back to their pools).</summary>
    public void Close(string reason)
    {
        _closeReason = reason;
        try
        {
            _lifetime.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished.
        }
    }

    /// <summary>Pings the server on the current connection; false when not connected or no pong in time.</summary>
    public Task<bool> PingAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var connection = Volatile.Read(ref _connection);
        return connection is null ? Task.FromResult(false) : connection.PingAsync(timeout, cancellationToken);
    }

    /// <summary>A status snapshot.</summary>
    public DerpRegionStatus GetStatus() => new(
        RegionId,
        Region.RegionCode,
        _connected,
        _preferred,
        Volatile.Read(ref _lastError),
        Interlocked.Read(ref _sent),
        Interlocked.Read(ref _received),
        Interlocked.Read(ref _drops));

    internal void NoteFrameRead() => Volatile.Write(ref _lastRead, TimeProvider.GetTimestamp());

    internal void CountSent() => Interlocked.Increment(ref _sent);

    internal void CountReceived() => Interlocked.Increment(ref _received);

    internal void CountSendDrop()
    {
        Interlocked.Increment(ref _drops);
        Shared.CountSendDrop();
    }

    internal void CountInboundDrop()
    {
        Interlocked.Increment(ref _drops);
        Shared.CountInboundDrop();
    }

    internal void OnPeerGone(ReadOnlySpan<byte> peerKey, DerpPeerGoneReason reason)
    {
        if (Logger.IsEnabled(LogLevel.Debug))
        {
            DerpLog.PeerGone(Logger, RegionId, Convert.ToHexStringLower(peerKey), reason);
        }

        _set.RaisePeerGone(RegionId, new WireGuardKey(peerKey));
    }

    internal void OnHealth(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            DerpLog.HealthOk(Logger, RegionId);
        }
        else
        {
            var problem = Encoding.UTF8.GetString(text);
            Volatile.Write(ref _lastError, "server: " + problem);
            DerpLog.HealthProblem(Logger, RegionId, problem);
        }
    }

    internal void OnRestarting(TimeSpan reconnectIn, TimeSpan tryFor) =>
        DerpLog.Restarting(Logger, RegionId, (long)reconnectIn.TotalMilliseconds, (long)tryFor.TotalMilliseconds);

    internal void OnServerInfo(DerpServerInfo info) =>
        DerpLog.ServerInfo(Logger, RegionId, info.Version, info.TokenBucketBytesPerSecond, info.TokenBucketBytesBurst);

    internal void OnBadServerInfo() => DerpLog.BadServerInfo(Logger, RegionId);

    /// <summary>A short text for a connect or connection failure.</summary>
    internal static string Describe(Exception error) => error switch
    {
        OperationCanceledException => "timed out",
        EndOfStreamException => "the server closed the connection",
        SocketException socket => socket.SocketErrorCode.ToString() + ": " + socket.Message,
        AuthenticationException => "TLS: " + error.Message,
        _ => error.Message,
    };

    private async Task RunAsync()
    {
        // Off the caller's thread (TrySend on the dataplane loop may have created this client).
        await Task.Yield();
        var cancellationToken = _lifetime.Token;
        var backoff = InitialBackoff;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                DerpConnection connection;
                try
                {
                    using var timeout = new CancellationTokenSource(ConnectTimeout, TimeProvider);
                    using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
                    connection = await DerpConnection.ConnectAsync(this, Region, connect.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    var error = Describe(e);
                    Volatile.Write(ref _lastError, error);
                    var delay = Jitter(backoff);
                    DerpLog.ConnectFailed(Logger, RegionId, error, (long)delay.TotalMilliseconds);
                    backoff = Next(backoff);
                    await Task.Delay(delay, TimeProvider, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var started = TimeProvider.GetTimestamp();
                DerpConnectionEnd end;
                await using (connection.ConfigureAwait(false))
                {
                    NoteFrameRead();
                    Volatile.Write(ref _lastError, null);
                    Volatile.Write(ref _connection, connection);
                    _connected = true;
                    DerpLog.Connected(Logger, RegionId, connection.Node.Name, connection.ServerKey.ToString());
                    _set.RaiseConnected(RegionId);
                    try
                    {
                        end = await connection.RunAsync(cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        _connected = false;
                        Volatile.Write(ref _connection, null);
                    }
                }

                if (cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                if (TimeProvider.GetElapsedTime(started) >= StableConnection)
                {
                    backoff = InitialBackoff;
                }

                var wait = end.RestartIn ?? Jitter(backoff);
                if (end.RestartIn is null)
                {
                    backoff = Next(backoff);
                }

                Volatile.Write(ref _lastError, end.Error);
                DerpLog.ConnectionEnded(Logger, RegionId, end.Error, (long)wait.TotalMilliseconds);
                await Task.Delay(wait, TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Closed.
        }
        finally
        {
            _connected = false;
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var frame))
            {
                frame.Return();
            }

            DerpLog.RegionClosed(Logger, RegionId, _closeReason ?? "stopped");
            _lifetime.Dispose();
        }
    }

    private static TimeSpan Next(TimeSpan backoff) => backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;

    // Up to +50 % so clients cut off together do not reconnect in lockstep.
    private static TimeSpan Jitter(TimeSpan backoff) => backoff * (1 + (Random.Shared.NextDouble() / 2));
}
