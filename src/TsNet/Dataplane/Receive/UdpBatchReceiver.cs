using System.Net.Sockets;
using System.Runtime.InteropServices;
using TsNet.WireGuard.Protocol;

namespace TsNet.Dataplane.Receive;

/// <summary>
/// Receives from the underlay's UDP sockets on one dedicated thread: <c>recvmmsg</c> takes up to
/// <see cref="Slots"/> receives per call, and with <c>UDP_GRO</c> on a socket each receive may hold many equal-size
/// datagrams the kernel coalesced (a GSO send over loopback arrives as one), split by the segment size in its
/// control message. The thread waits in <c>poll</c> on all sockets; <see cref="StopAsync"/> shuts them down, which
/// wakes it. Nothing allocates per receive: the buffers are one native block, each datagram is copied once into
/// the sink's pooled buffer.
/// </summary>
internal sealed unsafe class UdpBatchReceiver
{
    /// <summary>Receives per <c>recvmmsg</c> call (datagrams from different sources are never coalesced).</summary>
    public const int Slots = 8;

    /// <summary>One receive's buffer: the largest UDP payload, which is also the most GRO coalesces.</summary>
    public const int SlotBytes = 65536;

    private const int ControlBytes = 64;

    private readonly Socket[] _sockets;
    private readonly IReceivedDatagramSink _sink;
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private volatile bool _stopping;
    private long _receives;
    private long _coalescedReceives;
    private long _datagrams;

    /// <summary>Serves <paramref name="sockets"/> (non-blocking UDP sockets) into <paramref name="sink"/> once started.</summary>
    public UdpBatchReceiver(IReadOnlyList<Socket> sockets, IReceivedDatagramSink sink)
    {
        _sockets = [.. sockets];
        _sink = sink;
        _thread = new Thread(Run) { IsBackground = true, Name = "TsNet UDP receive" };
    }

    /// <summary>Completes when the thread has left (after <see cref="StopAsync"/>, or on an unexpected socket error).</summary>
    public Task Completion => _completed.Task;

    /// <summary>Receives (<c>recvmmsg</c> slots filled) so far.</summary>
    public long Receives => Interlocked.Read(ref _receives);

    /// <summary>Receives that held datagrams coalesced by UDP GRO (a <c>UDP_GRO</c> control message).</summary>
    public long CoalescedReceives => Interlocked.Read(ref _coalescedReceives);

    /// <summary>Datagrams delivered to the sink.</summary>
    public long Datagrams => Interlocked.Read(ref _datagrams);

    /// <summary>
    /// Turns on <c>UDP_GRO</c> on <paramref name="socket"/>: false where the kernel lacks it (before 5.0), and the
    /// socket then receives one datagram per slot as before.
    /// </summary>
    public static bool TryEnableGro(Socket socket)
    {
        Span<byte> on = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(on, 1);
        try
        {
            socket.SetRawSocketOption(UdpControlMessages.SolUdp, UdpControlMessages.UdpGro, on);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Starts the receive thread.</summary>
    public void Start() => _thread.UnsafeStart();

    /// <summary>
    /// Stops the thread: sets the flag, then <c>shutdown</c> wakes its <c>poll</c>. The sockets stay open (the owner
    /// closes them after this completes, so their descriptors cannot be reused under a running receive).
    /// </summary>
    public Task StopAsync()
    {
        _stopping = true;
        if (_thread.ThreadState.HasFlag(ThreadState.Unstarted))
        {
            _completed.TrySetResult();
            return _completed.Task;
        }

        foreach (var socket in _sockets)
        {
            var added = false;
            try
            {
                socket.SafeHandle.DangerousAddRef(ref added);
                _ = LinuxUdp.Shutdown((int)socket.SafeHandle.DangerousGetHandle(), LinuxUdp.ShutRdWr);
            }
            catch (ObjectDisposedException)
            {
                // Already closed: the thread's own reference keeps the descriptor until it leaves.
            }
            finally
            {
                if (added)
                {
                    socket.SafeHandle.DangerousRelease();
                }
            }
        }

        return _completed.Task;
    }

    private void Run()
    {
        var count = _sockets.Length;
        var referenced = new bool[count];
        byte* memory = null;
        try
        {
            memory = (byte*)NativeMemory.AllocZeroed((nuint)(Slots * (sizeof(LinuxUdp.MMsgHdr) + sizeof(LinuxUdp.IoVec) + NativeSocketAddress.StorageSize + ControlBytes + SlotBytes)));
            var fds = stackalloc LinuxUdp.PollFd[count];
            for (var i = 0; i < count; i++)
            {
                // Held while the thread runs: a close elsewhere cannot free the descriptor under recvmmsg.
                _sockets[i].SafeHandle.DangerousAddRef(ref referenced[i]);
                fds[i].Fd = (int)_sockets[i].SafeHandle.DangerousGetHandle();
                fds[i].Events = LinuxUdp.PollIn;
            }

            var messages = (LinuxUdp.MMsgHdr*)memory;
            var iovs = (LinuxUdp.IoVec*)(messages + Slots);
            var names = (byte*)(iovs + Slots);
            var controls = names + (Slots * NativeSocketAddress.StorageSize);
            var data = controls + (Slots * ControlBytes);
            for (var i = 0; i < Slots; i++)
            {
                iovs[i].Base = data + ((long)i * SlotBytes);
                iovs[i].Length = SlotBytes;
                messages[i].Header.Iov = iovs + i;
                messages[i].Header.IovLength = 1;
                messages[i].Header.Name = names + (i * NativeSocketAddress.StorageSize);
                messages[i].Header.Control = controls + (i * ControlBytes);
            }

            Serve(fds, count, messages);
        }
        catch (Exception ex)
        {
            _completed.TrySetException(ex);
        }
        finally
        {
            for (var i = 0; i < count; i++)
            {
                if (referenced[i])
                {
                    _sockets[i].SafeHandle.DangerousRelease();
                }
            }

            NativeMemory.Free(memory);
            _completed.TrySetResult();
        }
    }

    private void Serve(LinuxUdp.PollFd* fds, int count, LinuxUdp.MMsgHdr* messages)
    {
        // Readiness per socket: try every socket first; one that filled every slot is tried again without a poll.
        var ready = stackalloc bool[count];
        for (var i = 0; i < count; i++)
        {
            ready[i] = true;
        }

        while (!_stopping)
        {
            var anyReady = false;
            for (var i = 0; i < count && !_stopping; i++)
            {
                if (!ready[i])
                {
                    continue;
                }

                var received = ReceiveBatch(fds[i].Fd, messages);
                ready[i] = received == Slots;
                anyReady |= ready[i];
            }

            if (anyReady || _stopping)
            {
                continue;
            }

            var polled = LinuxUdp.Poll(fds, (nuint)count, -1);
            if (polled < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != LinuxUdp.EIntr)
                {
                    throw new IOException("poll on the underlay sockets failed: " + Marshal.GetPInvokeErrorMessage(errno));
                }

                continue;
            }

            for (var i = 0; i < count; i++)
            {
                ready[i] = fds[i].Revents != 0;
            }
        }
    }

    /// <summary>One <c>recvmmsg</c> on <paramref name="fd"/>: delivers what it got, returns how many slots it filled.</summary>
    private int ReceiveBatch(int fd, LinuxUdp.MMsgHdr* messages)
    {
        for (var i = 0; i < Slots; i++)
        {
            // The kernel overwrites these on every receive.
            messages[i].Header.NameLength = NativeSocketAddress.StorageSize;
            messages[i].Header.ControlLength = ControlBytes;
            messages[i].Header.Flags = 0;
        }

        var received = LinuxUdp.RecvMMsg(fd, messages, Slots, LinuxUdp.MsgDontWait, null);
        if (received <= 0)
        {
            // EAGAIN: drained. Other errors (an ICMP error queued on the socket, a shut-down socket) are per call:
            // the next poll tells whether there is more, the stop flag whether to leave.
            return 0;
        }

        for (var i = 0; i < received; i++)
        {
            ref var header = ref messages[i].Header;
            if ((header.Flags & LinuxUdp.MsgTrunc) != 0
                || !NativeSocketAddress.TryRead(new ReadOnlySpan<byte>(header.Name, (int)header.NameLength), out var source))
            {
                // Larger than any datagram the underlay sends, or from an address family it does not speak.
                continue;
            }

            var control = new ReadOnlySpan<byte>(header.Control, (int)header.ControlLength);
            var coalesced = UdpControlMessages.TryReadGroSegmentSize(control, out var segmentSize);
            var datagrams = 0;
            foreach (var datagram in new CoalescedDatagrams(new ReadOnlySpan<byte>(header.Iov->Base, (int)messages[i].Length), segmentSize))
            {
                _sink.Deliver(datagram, source);
                datagrams++;
            }

            Interlocked.Add(ref _datagrams, datagrams);
            if (coalesced)
            {
                Interlocked.Increment(ref _coalescedReceives);
            }
        }

        Interlocked.Add(ref _receives, received);
        return received;
    }
}
