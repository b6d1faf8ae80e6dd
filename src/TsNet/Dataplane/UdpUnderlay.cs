using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TsNet.Dataplane.Receive;
using TsNet.Packets.Buffers;
using TsNet.Underlay;
using TsNet.WireGuard.Protocol;

namespace TsNet.Dataplane;

/// <summary>
/// The UDP sockets WireGuard messages travel over: one IPv4 and (when the host has IPv6) one IPv6 socket on the
/// same port. Receiving, allocation-free, hands datagrams to a bounded channel: on 64-bit Linux one thread serves
/// both sockets with <c>recvmmsg</c> and UDP GRO (<see cref="UdpBatchReceiver"/>, many datagrams per syscall),
/// elsewhere (or with <c>TSNET_UDP_GRO=0</c>) one task per socket runs <c>ReceiveFromAsync</c> into pooled buffers
/// with a reused <see cref="SocketAddress"/>. Sending is synchronous
/// and non-blocking from the dataplane loop (a full socket buffer drops the datagram, like a full queue), staged per
/// loop turn in a <see cref="SendBatch"/> so runs of datagrams to one destination leave in one GSO send.
/// </summary>
internal sealed partial class UdpUnderlay : IUnderlay, IReceivedDatagramSink
{
    /// <summary>Set to <c>0</c> to receive one datagram per <c>ReceiveFromAsync</c> (for A/B measurements).</summary>
    public const string GroEnvironmentVariable = "TSNET_UDP_GRO";

    // Larger kernel buffers absorb bursts (a TCP window's worth of segments) without drops.
    private const int SocketBufferBytes = 4 * 1024 * 1024;

    private readonly Socket _ipv4;
    private readonly Socket? _ipv6;
    private readonly PacketBufferPool _pool;
    private readonly ChannelWriter<UnderlayDatagram> _inbound;
    private readonly Action<ReadOnlySpan<byte>> _onReceived;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SocketAddress _sendAddressV4 = new(AddressFamily.InterNetwork);
    private readonly SocketAddress _sendAddressV6 = new(AddressFamily.InterNetworkV6);
    private readonly SendBatch _batch = new();
    private readonly UdpReceivePath _receivePath;
    private UdpBatchReceiver? _batchReceiver;
    private Task[] _receivers = [];
    private int _disposed;
    private long _inboundDrops;
    private long _sendDrops;

    private UdpUnderlay(Socket ipv4, Socket? ipv6, PacketBufferPool pool, ChannelWriter<UnderlayDatagram> inbound, Action<ReadOnlySpan<byte>> onReceived, ILogger logger, UdpReceivePath receivePath)
    {
        _receivePath = receivePath;
        _ipv4 = ipv4;
        _ipv6 = ipv6;
        _pool = pool;
        _inbound = inbound;
        _onReceived = onReceived;
        _logger = logger;
        Port = ((IPEndPoint)ipv4.LocalEndPoint!).Port;
    }

    /// <summary>The bound UDP port (both families).</summary>
    public int Port { get; }

    /// <summary>Datagrams dropped because the dataplane's inbound queue was full.</summary>
    public long InboundDrops => Interlocked.Read(ref _inboundDrops);

    /// <summary>Datagrams dropped because the socket could not take them (buffer full, unreachable, no IPv6).</summary>
    public long SendDrops => Interlocked.Read(ref _sendDrops);

    /// <summary>
    /// Binds both families on <paramref name="port"/> (0 = one ephemeral port for both). <paramref name="onReceived"/>
    /// sees each datagram's bytes before it is queued (the dataplane counts pending handshakes with it).
    /// <paramref name="receivePath"/> null takes <see cref="DefaultReceivePath"/>.
    /// </summary>
    public static UdpUnderlay Bind(int port, PacketBufferPool pool, ChannelWriter<UnderlayDatagram> inbound, Action<ReadOnlySpan<byte>> onReceived, ILogger logger, UdpReceivePath? receivePath = null)
    {
        var path = receivePath ?? DefaultReceivePath;
        if (path == UdpReceivePath.Batched && !LinuxUdp.IsSupported)
        {
            path = UdpReceivePath.PerDatagram;
        }

        // With port 0 the IPv6 bind may collide with the ephemeral port the kernel chose for IPv4: retry a few times.
        for (var attempt = 0; ; attempt++)
        {
            var ipv4 = CreateSocket(AddressFamily.InterNetwork);
            try
            {
                ipv4.Bind(new IPEndPoint(IPAddress.Any, port));
            }
            catch
            {
                ipv4.Dispose();
                throw;
            }

            var actualPort = ((IPEndPoint)ipv4.LocalEndPoint!).Port;
            Socket? ipv6 = null;
            if (Socket.OSSupportsIPv6)
            {
                try
                {
                    ipv6 = CreateSocket(AddressFamily.InterNetworkV6);
                    ipv6.DualMode = false;
                    ipv6.Bind(new IPEndPoint(IPAddress.IPv6Any, actualPort));
                }
                catch (SocketException ex) when (port == 0 && ex.SocketErrorCode == SocketError.AddressAlreadyInUse && attempt < 8)
                {
                    ipv6?.Dispose();
                    ipv4.Dispose();
                    continue;
                }
                catch (SocketException ex)
                {
                    // A host without usable IPv6 still works over IPv4.
                    LogNoIpv6(logger, ex.SocketErrorCode);
                    ipv6?.Dispose();
                    ipv6 = null;
                }
            }

            return new UdpUnderlay(ipv4, ipv6, pool, inbound, onReceived, logger, path);
        }
    }

    private static Socket CreateSocket(AddressFamily family)
    {
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.ReceiveBufferSize = SocketBufferBytes;
            socket.SendBufferSize = SocketBufferBytes;
        }
        catch (SocketException)
        {
            // Buffer sizes are a tuning hint; the kernel may cap them.
        }

        socket.Blocking = false;
        return socket;
    }

    /// <summary>
    /// Batched (<c>recvmmsg</c> and UDP GRO) on 64-bit Linux unless the environment variable
    /// <see cref="GroEnvironmentVariable"/> is <c>0</c>; per datagram elsewhere.
    /// </summary>
    public static UdpReceivePath DefaultReceivePath =>
        LinuxUdp.IsSupported && Environment.GetEnvironmentVariable(GroEnvironmentVariable) != "0"
            ? UdpReceivePath.Batched
            : UdpReceivePath.PerDatagram;

    /// <summary>The receive path this underlay uses.</summary>
    public UdpReceivePath ReceivePath => _receivePath;

    /// <summary>The batched receiver once started (null on the per-datagram path); its counters are test hooks.</summary>
    internal UdpBatchReceiver? BatchReceiver => _batchReceiver;

    /// <summary>Starts the receive thread (batched) or tasks (per datagram).</summary>
    public void Start()
    {
        if (_receivePath == UdpReceivePath.Batched)
        {
            var sockets = Sockets.ToArray();
            var gro = 0;
            foreach (var socket in sockets)
            {
                gro += UdpBatchReceiver.TryEnableGro(socket) ? 1 : 0;
            }

            LogBatchedReceive(_logger, sockets.Length, gro);
            _batchReceiver = new UdpBatchReceiver(sockets, this);
            _batchReceiver.Start();
            _receivers = [_batchReceiver.Completion];
            // A receive thread that dies leaves the node deaf: say so when it happens, not at dispose.
            _batchReceiver.Completion.ContinueWith(
                static (task, state) => LogBatchedReceiveFailed(((UdpUnderlay)state!)._logger, task.Exception!.GetBaseException()),
                this,
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            return;
        }

        var receivers = new List<Task> { Task.Run(() => ReceiveLoopAsync(_ipv4, _stopping.Token)) };
        if (_ipv6 is not null)
        {
            receivers.Add(Task.Run(() => ReceiveLoopAsync(_ipv6, _stopping.Token)));
        }

        _receivers = receivers.ToArray();
    }

    /// <summary>The underlay sockets (test hook: all closed after dispose).</summary>
    internal IEnumerable<Socket> Sockets => _ipv6 is null ? [_ipv4] : [_ipv4, _ipv6];

    /// <summary>The receive loops (one per address family) once started.</summary>
    public IEnumerable<Task> Tasks => _receivers;

    /// <summary>Plain UDP has no timers of its own.</summary>
    public long NextDeadline => Timestamps.NotArmed;

    /// <summary>Stages <paramref name="datagram"/> for this loop turn's GSO runs (sent at once without GSO).</summary>
    public void Send(in UnderlayAddress destination, ReadOnlySpan<byte> datagram) => _batch.Add(destination, datagram, this);

    public void Flush() => _batch.Flush(this);

    /// <summary>Every datagram from a UDP socket is direct WireGuard traffic as far as UDP knows.</summary>
    public UnderlayReceiveResult Receive(ref UnderlayDatagram datagram, long now) => UnderlayReceiveResult.Direct;

    public void Poll(long now)
    {
    }

    /// <summary>
    /// The largest segment size the sockets split sends at (UDP generic segmentation offload), or 0 when GSO is off:
    /// the largest datagram ever sent, so a single datagram is never split. One send of N × size bytes (plus one
    /// shorter tail) leaves as N datagrams: one syscall instead of N. A batch of smaller segments (direct datagrams
    /// while relayed ones are 8 bytes larger) sets the socket's segment size for its send (see <see cref="SendNow"/>).
    /// </summary>
    public int GsoSegmentSize { get; private set; }

    // The UDP_SEGMENT value each socket has now; changed only when a send needs another (rare: a switch between
    // batches of direct and relayed datagrams), so steady traffic costs no extra syscalls.
    private int _segmentV4;
    private int _segmentV6;

    /// <summary>
    /// Turns on UDP GSO with <paramref name="segmentSize"/> (the largest datagram we ever send) on both sockets.
    /// False where the kernel lacks it; sending then stays one datagram per call.
    /// </summary>
    public bool TryEnableGso(int segmentSize)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            SetSegmentSize(_ipv4, segmentSize);
            if (_ipv6 is not null)
            {
                SetSegmentSize(_ipv6, segmentSize);
            }

            GsoSegmentSize = segmentSize;
            _segmentV4 = segmentSize;
            _segmentV6 = segmentSize;
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// Sends one datagram now, or with <paramref name="segmentSize"/> &gt; 0 (GSO on) a batch the kernel splits into
    /// datagrams of that size; drops (and counts) it if the socket cannot take it. Dataplane thread only; bypasses
    /// the staged batch (<see cref="SendBatch"/> calls this).
    /// </summary>
    public void SendNow(in UnderlayAddress destination, ReadOnlySpan<byte> datagram, int segmentSize = 0)
    {
        Socket? socket;
        SocketAddress address;
        if (destination.IsIPv6)
        {
            socket = _ipv6;
            address = _sendAddressV6;
        }
        else
        {
            socket = _ipv4;
            address = _sendAddressV4;
        }

        if (socket is null || Volatile.Read(ref _disposed) != 0)
        {
            Interlocked.Increment(ref _sendDrops);
            return;
        }

        destination.WriteTo(address);
        try
        {
            if (GsoSegmentSize > 0)
            {
                ref var current = ref destination.IsIPv6 ? ref _segmentV6 : ref _segmentV4;
                // A single datagram must not exceed the segment size (it would be split); a batch needs its own size.
                var wanted = segmentSize > 0 ? segmentSize : datagram.Length > current ? GsoSegmentSize : current;
                if (wanted != current)
                {
                    SetSegmentSize(socket, wanted);
                    current = wanted;
                }
            }

            var error = UdpSend.SendTo(socket, datagram, address);
            if (error != SocketError.Success)
            {
                CountSendFailure(destination, error);
            }
        }
        catch (SocketException ex)
        {
            // From setting the GSO segment size; the send itself reports its error as a code.
            CountSendFailure(destination, ex.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
            Interlocked.Increment(ref _sendDrops);
        }
    }

    private void CountSendFailure(in UnderlayAddress destination, SocketError error)
    {
        Interlocked.Increment(ref _sendDrops);
        if (error != SocketError.WouldBlock && _logger.IsEnabled(LogLevel.Debug))
        {
            LogSendFailed(_logger, destination.ToString(), error);
        }
    }

    /// <summary>Linux <c>setsockopt(SOL_UDP = 17, UDP_SEGMENT = 103, int)</c>; receivers cannot tell the difference.</summary>
    private static void SetSegmentSize(Socket socket, int segmentSize)
    {
        const int SolUdp = 17;
        const int UdpSegment = 103;
        Span<byte> value = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(value, segmentSize);
        socket.SetRawSocketOption(SolUdp, UdpSegment, value);
    }

    private async Task ReceiveLoopAsync(Socket socket, CancellationToken cancellationToken)
    {
        var source = new SocketAddress(socket.AddressFamily);
        while (!cancellationToken.IsCancellationRequested)
        {
            var buffer = _pool.Rent(MessageLayout.TransportHeaderSize);
            int received;
            try
            {
                received = await socket.ReceiveFromAsync(
                    buffer.Array.AsMemory(buffer.Offset), SocketFlags.None, source, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                buffer.Return();
                return;
            }
            catch (ObjectDisposedException)
            {
                buffer.Return();
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted)
            {
                buffer.Return();
                return;
            }
            catch (SocketException ex)
            {
                // Truncated oversize datagrams, ICMP-reported errors: drop this one and keep serving.
                buffer.Return();
                LogReceiveFailed(_logger, ex.SocketErrorCode);
                continue;
            }

            if (!UnderlayAddress.TryFromSocketAddress(source, out var from))
            {
                buffer.Return();
                continue;
            }

            buffer.SetLength(received);
            Enqueue(buffer, from);
        }
    }

    /// <summary>A received datagram to the dataplane (both receive paths): seen by the hook, queued, or dropped and counted.</summary>
    private void Enqueue(PacketBuffer buffer, in UnderlayAddress source)
    {
        _onReceived(buffer.Span);
        if (!_inbound.TryWrite(new UnderlayDatagram(buffer, source)))
        {
            Interlocked.Increment(ref _inboundDrops);
            buffer.Return();
        }
    }

    /// <summary>
    /// One datagram from the batched receiver: copied into a pooled buffer (the receive buffer is reused by the next
    /// <c>recvmmsg</c>) and queued like the per-datagram path does.
    /// </summary>
    void IReceivedDatagramSink.Deliver(ReadOnlySpan<byte> datagram, in UnderlayAddress source)
    {
        var buffer = _pool.Rent(MessageLayout.TransportHeaderSize);
        if (datagram.Length > buffer.Array.Length - buffer.Offset)
        {
            // Larger than any WireGuard datagram at this MTU; the per-datagram path truncates and drops it too.
            buffer.Return();
            return;
        }

        datagram.CopyTo(buffer.Array.AsSpan(buffer.Offset));
        buffer.SetLength(datagram.Length);
        Enqueue(buffer, source);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_batchReceiver is { } batch)
        {
            // The thread leaves before the sockets close, so it never polls a descriptor that was reused.
            try
            {
                await batch.StopAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                // Logged when the thread failed (the continuation in Start).
            }
        }

        _ipv4.Dispose();
        _ipv6?.Dispose();
        try
        {
            await Task.WhenAll(_receivers).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
        {
            // Receive loops end by cancellation or a closed socket (a batched receiver's failure was logged above).
        }

        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "IPv6 underlay unavailable ({Error}); using IPv4 only")]
    private static partial void LogNoIpv6(ILogger logger, SocketError error);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Debug, Message = "Underlay send to {Destination} failed: {Error}")]
    private static partial void LogSendFailed(ILogger logger, string destination, SocketError error);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Debug, Message = "Underlay receive failed: {Error}")]
    private static partial void LogReceiveFailed(ILogger logger, SocketError error);

    [LoggerMessage(EventId = 1830, Level = LogLevel.Debug, Message = "Underlay receives with recvmmsg on {Sockets} socket(s), UDP GRO on {GroSockets}")]
    private static partial void LogBatchedReceive(ILogger logger, int sockets, int groSockets);

    [LoggerMessage(EventId = 1831, Level = LogLevel.Error, Message = "The underlay's receive thread failed; no more datagrams are received on this port")]
    private static partial void LogBatchedReceiveFailed(ILogger logger, Exception exception);
}
