using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using TsNet.Netstack.Sockets;
using TsNet.Netstack.Tcp;

namespace TsNet.Netstack;

// The loop's side of TCP: app requests (listen, connect, close listener), app notifications from the streams
// (bytes written, bytes consumed, abort, close) and the core's touched sockets (events: connected, readable,
// writable, read-closed, closed). Bytes move between each connection and its two pipes here, on the loop task.
internal sealed partial class NetstackLoop
{
    /// <summary>Largest chunk moved from a connection into the receive pipe at once.</summary>
    private const int ReceiveChunkBytes = 16 * 1024;

    /// <summary>App notifications per iteration before packets get a turn.</summary>
    private const int ServiceBatchLimit = 256;

    // Unbounded, but each stream queues itself at most once until serviced (TcpStreamChannel.Notify), so its length
    // is bounded by the number of connections.
    private readonly Channel<TcpStreamChannel> _service = Channel.CreateUnbounded<TcpStreamChannel>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<TcpSocket> _touched = new();
    private readonly byte[] _discard = new byte[ReceiveChunkBytes];

    /// <summary>Hook for SYNs matching no listener (set before start; consulted on the loop task).</summary>
    public UnmatchedTcpFlowHandler? UnmatchedTcpFlow
    {
        get => _core.UnmatchedTcpFlow;
        set => _core.UnmatchedTcpFlow = value;
    }

    /// <summary>Starts listening on <paramref name="port"/>; established connections appear in the entry's channel.</summary>
    public async ValueTask<TcpListenerEntry> ListenTcpAsync(int port, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, ushort.MaxValue);
        var command = new TcpCommand<TcpListenerEntry>(this, (loop, _) => loop._core.ListenTcp((ushort)port));
        return await SubmitAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops a listener; connections waiting to be accepted are reset.</summary>
    public async ValueTask CloseTcpListenerAsync(TcpListenerEntry listener)
    {
        if (_disposed)
        {
            listener.Accepted.Writer.TryComplete();
            return;
        }

        var command = new TcpCommand<bool>(this, (loop, now) =>
        {
            loop._core.CloseTcpListener(listener, now);
            listener.Accepted.Writer.TryComplete();
            while (listener.Accepted.Reader.TryRead(out var queued))
            {
                queued.RequestAbort();
            }

            return true;
        });
        try
        {
            await SubmitAsync(command, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ObjectDisposedException || (e is InvalidOperationException && Fault is not null))
        {
            // The loop stopped or faulted and took every listener with it.
        }
    }

    /// <summary>Opens a TCP connection and waits for the handshake.</summary>
    /// <exception cref="SocketException">Refused (RST), timed out (SYN retries exhausted), or reset.</exception>
    public async ValueTask<TcpStreamChannel> ConnectTcpAsync(IPEndPoint remote, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        var connected = new TaskCompletionSource<TcpStreamChannel>(TaskCreationOptions.RunContinuationsAsynchronously);
        var command = new TcpCommand<TcpSocket>(this, (loop, now) =>
        {
            var socket = loop._core.ConnectTcp(remote, now);
            socket.PendingConnect = connected;
            socket.Channel = new TcpStreamChannel(socket.Connection, loop._scheduleService) { Owner = socket };
            return socket;
        });
        // Once queued the command runs (or is abandoned at dispose) promptly, so its result is awaited without the
        // token: a cancel between queueing and running would otherwise leave a SYN-SENT connection nobody owns.
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _kernel.PostAsync(command, cancellationToken).ConfigureAwait(false);
        var socket = await command.Completion.Task.ConfigureAwait(false);
        try
        {
            return await connected.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Give up the half-open connection; if it completes meanwhile the app never sees it.
            socket.Channel?.RequestAbort();
            throw;
        }
    }

    private void ScheduleService(TcpStreamChannel channel)
    {
        if (!_service.Writer.TryWrite(channel))
        {
            // Only after dispose: the channel is completed and nothing services streams any more.
            channel.MarkDequeued();
            return;
        }

        _kernel.Wake.Set();
    }

    /// <returns>True when the batch limit was hit.</returns>
    private bool ServiceApps(long now)
    {
        for (var i = 0; i < ServiceBatchLimit; i++)
        {
            if (!_service.Reader.TryRead(out var channel))
            {
                return false;
            }

            channel.MarkDequeued();
            if (channel.Owner is not TcpSocket socket)
            {
                continue;
            }

            if (socket.Removed)
            {
                CompleteApp(socket);
                continue;
            }

            if (channel.AbortRequested)
            {
                socket.Connection.Abort();
            }

            PumpSend(socket);
            PumpReceive(socket);
            _core.Touch(socket);
        }

        return true;
    }

    /// <summary>Handles what changed in the core's sockets and sends their output.</summary>
    private void ServiceTcp(long now)
    {
        _touched.Clear();
        _core.TakeTouchedTcp(_touched);
        foreach (var socket in _touched)
        {
            HandleEvents(socket, socket.Connection.TakeEvents());
            _core.FlushTcp(socket, now);
            if (socket.Removed)
            {
                CompleteApp(socket);
            }
        }

        _touched.Clear();
    }

    private void HandleEvents(TcpSocket socket, TcpEvents events)
    {
        if ((events & TcpEvents.Connected) != 0)
        {
            OnConnected(socket);
        }

        if (socket.Channel is null)
        {
            return;
        }

        if ((events & (TcpEvents.Writable | TcpEvents.Connected)) != 0)
        {
            PumpSend(socket);
        }

        if ((events & (TcpEvents.Readable | TcpEvents.ReadClosed | TcpEvents.Closed)) != 0)
        {
            PumpReceive(socket);
        }
    }

    private void OnConnected(TcpSocket socket)
    {
        if (socket.PendingConnect is TaskCompletionSource<TcpStreamChannel> connect && socket.Channel is { } own)
        {
            socket.PendingConnect = null;
            if (!connect.TrySetResult(own))
            {
                socket.Connection.Abort(); // the caller gave up meanwhile
            }

            return;
        }

        var channel = new TcpStreamChannel(socket.Connection, _scheduleService) { Owner = socket };
        socket.Channel = channel;
        if (socket.Listener is { } listener)
        {
            listener.Handshaking--;
            socket.Listener = null;
            if (listener.Closed || !listener.Accepted.Writer.TryWrite(channel))
            {
                socket.Connection.Abort();
            }
        }
        else if (socket.FlowHandler is { } handler)
        {
            socket.FlowHandler = null;
            try
            {
                handler.Established(channel);
            }
            catch (Exception)
            {
                // A throwing handler loses its flow; the netstack carries on.
                socket.Connection.Abort();
            }
        }
    }

    /// <summary>Moves app bytes from the send pipe into the connection while it has room.</summary>
    private static void PumpSend(TcpSocket socket)
    {
        var channel = socket.Channel;
        if (channel is null || socket.ShutdownRequested || socket.Removed)
        {
            return;
        }

        var connection = socket.Connection;
        var send = channel.Send;
        for (var guard = 0; guard < 64; guard++)
        {
            if (connection.IsWriteClosed || !send.TryPeek(out var bytes, out var finished))
            {
                return;
            }

            var written = bytes.IsEmpty ? 0 : connection.Write(bytes.Span);
            send.Consume(written);
            if (written == bytes.Length && finished)
            {
                // The app finished writing (ShutdownWriteAsync or dispose): FIN after the buffered bytes.
                socket.ShutdownRequested = true;
                send.CompleteReader();
                connection.Shutdown();
                return;
            }

            if (written < bytes.Length || written == 0)
            {
                return; // connection full (Writable will call again) or nothing new
            }
        }
    }

    /// <summary>Moves received bytes into the app's pipe, up to <see cref="TcpStreamChannel.ReceiveAheadBytes"/> ahead of it.</summary>
    private void PumpReceive(TcpSocket socket)
    {
        var channel = socket.Channel;
        if (channel is null || channel.ReceiveCompleted)
        {
            // App gone or already told: still drain so the window stays open until the connection closes.
            while (socket.Connection.ReadableBytes > 0 && socket.Connection.Read(_discard) > 0)
            {
            }

            return;
        }

        var connection = socket.Connection;
        var wrote = false;
        // Each extra round needs the app to have consumed half the window meanwhile, so this ends quickly.
        for (var round = 0; round < 1000; round++)
        {
            channel.ReceiveThrottled = false;
            wrote |= MoveReceivedBytes(connection, channel, TcpStreamChannel.ReceiveAheadBytes);

            channel.PublishReceiveState();
            // Re-check after publishing: the app may have consumed in between without seeing the throttle flag.
            if (!channel.ReceiveThrottled || channel.WrittenByLoop - channel.ConsumedByApp > TcpStreamChannel.ReceiveAheadBytes / 2)
            {
                break;
            }
        }

        if (wrote && !channel.Receive.Publish())
        {
            channel.ReceiveCompleted = true; // the app stopped reading
            channel.Receive.CompleteWriter();
        }

        if (!channel.ReceiveCompleted && connection.IsReadClosed)
        {
            channel.ReceiveCompleted = true;
            channel.Receive.CompleteWriter(ErrorOf(connection));
            channel.SignalClosed();
        }
    }

    /// <summary>The connection is gone: finish both pipes (with the error, if any) and fail a pending connect.</summary>
    private static void CompleteApp(TcpSocket socket)
    {
        var error = ErrorOf(socket.Connection);
        if (socket.PendingConnect is TaskCompletionSource<TcpStreamChannel> connect)
        {
            socket.PendingConnect = null;
            connect.TrySetException(error ?? new SocketException((int)SocketError.ConnectionAborted));
        }

        if (socket.Channel is { } channel)
        {
            if (!channel.ReceiveCompleted)
            {
                if (error is null)
                {
                    // A connection can close normally (LAST-ACK → CLOSED) while its app is behind: every byte it
                    // still holds belongs to the app, so move it all into the pipe (beyond the read-ahead bound, at
                    // most one receive buffer) before the end of the stream.
                    DrainIntoPipe(socket.Connection, channel);
                }

                channel.ReceiveCompleted = true;
                channel.Receive.CompleteWriter(error);
            }

            channel.Send.CompleteReader(error);
            channel.SignalClosed();
        }
    }

    private static void DrainIntoPipe(TcpConnection connection, TcpStreamChannel channel)
    {
        if (MoveReceivedBytes(connection, channel, long.MaxValue))
        {
            channel.Receive.Publish();
        }
    }

    /// <summary>
    /// Moves readable bytes from the connection into the receive pipe (unflushed) until the app is
    /// <paramref name="aheadLimit"/> bytes behind, setting <see cref="TcpStreamChannel.ReceiveThrottled"/> when it
    /// stops there. True when anything moved.
    /// </summary>
    private static bool MoveReceivedBytes(TcpConnection connection, TcpStreamChannel channel, long aheadLimit)
    {
        var receive = channel.Receive;
        var moved = false;
        while (connection.ReadableBytes > 0)
        {
            if (channel.WrittenByLoop - channel.ConsumedByApp >= aheadLimit)
            {
                channel.ReceiveThrottled = true;
                break;
            }

            var span = receive.GetWriteSpan(Math.Min(connection.ReadableBytes, ReceiveChunkBytes));
            var read = connection.Read(span);
            receive.CommitWrite(read);
            if (read == 0)
            {
                break;
            }

            channel.WrittenByLoop += read;
            moved = true;
        }

        return moved;
    }

    private static SocketException? ErrorOf(TcpConnection connection) => connection.Error switch
    {
        TcpError.None => null,
        TcpError.Refused => new SocketException((int)SocketError.ConnectionRefused),
        TcpError.TimedOut => new SocketException((int)SocketError.TimedOut),
        TcpError.Reset => new SocketException((int)SocketError.ConnectionReset),
        _ => new SocketException((int)SocketError.ConnectionAborted),
    };

    /// <summary>Completes every stream when the loop stops (nothing is sent: the node is going away).</summary>
    private void AbandonTcp(Exception reason)
    {
        _service.Writer.TryComplete();
        _touched.Clear();
        _core.ForEachTcpSocket(socket =>
        {
            if (socket.PendingConnect is TaskCompletionSource<TcpStreamChannel> connect)
            {
                connect.TrySetException(reason);
            }

            if (socket.Channel is { } channel)
            {
                channel.Receive.CompleteWriter(reason);
                channel.Send.CompleteReader(reason);
                channel.SignalClosed();
            }
        });
        _core.ForEachTcpListener(listener => listener.Accepted.Writer.TryComplete());
    }

    /// <summary>Diagnostics: one line per TCP connection (state, counters, bytes queued on each side).</summary>
    internal async ValueTask<string> DescribeTcpAsync(CancellationToken cancellationToken = default)
    {
        var command = new TcpCommand<string>(this, (loop, _) =>
        {
            var lines = new System.Text.StringBuilder();
            lines.Append("failure=").Append(loop._kernel.Fault?.GetType().Name ?? "none").AppendLine();
            loop._core.ForEachTcpSocket(socket =>
            {
                var c = socket.Connection;
                var k = c.Counters;
                var ch = socket.Channel;
                lines.Append(c.Endpoints.ToString()).Append(' ').Append(c.State)
                    .Append(" readable=").Append(c.ReadableBytes).Append(" writable=").Append(c.WritableBytes)
                    .Append(" unacked=").Append(c.UnacknowledgedBytes).Append(" sndwnd=").Append(c.SendWindow)
                    .Append(" cwnd=").Append(c.Congestion.Window).Append(" backoff=").Append(c.RetransmitTimer.Backoff)
                    .Append(" sent=").Append(k.SegmentsSent).Append(" recv=").Append(k.SegmentsReceived)
                    .Append(" retx=").Append(k.Retransmissions).Append(" rto=").Append(k.RetransmitTimeouts)
                    .Append(" deadline=").Append(c.NextDeadline == long.MaxValue ? "none" : c.NextDeadline.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    .Append(" scheduledAt=").Append(socket.ScheduledAt == long.MaxValue ? "none" : socket.ScheduledAt.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    .Append(" shutdownRequested=").Append(socket.ShutdownRequested);
                if (ch is not null)
                {
                    lines.Append(" pipeAhead=").Append(ch.WrittenByLoop - ch.ConsumedByApp).Append(" throttled=").Append(ch.ReceiveThrottled)
                        .Append(" receiveCompleted=").Append(ch.ReceiveCompleted);
                }

                lines.AppendLine();
            });
            lines.Append("outbound=").Append(loop._core.OutboundCount).Append(" drops=").Append(loop._core.Counters.TotalDropped);
            return lines.ToString();
        });
        return await SubmitAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Diagnostics: the core's TCP connections (any state), for tests that check nothing is left behind.</summary>
    internal ValueTask<int> TcpConnectionCountAsync(CancellationToken cancellationToken = default) =>
        SubmitAsync(new TcpCommand<int>(this, (loop, _) => loop._core.TcpConnectionCount), cancellationToken);

    private async ValueTask<T> SubmitAsync<T>(TcpCommand<T> command, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _kernel.PostAsync(command, cancellationToken).ConfigureAwait(false);
        return await command.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A TCP request run on the loop task, with its result.</summary>
    private sealed class TcpCommand<T>(NetstackLoop loop, Func<NetstackLoop, long, T> action) : NetstackCommand
    {
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(long now)
        {
            try
            {
                Completion.TrySetResult(action(loop, now));
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or SocketException)
            {
                Completion.TrySetException(e);
            }
        }

        public override void Abandon(Exception reason) => Completion.TrySetException(reason);
    }
}
