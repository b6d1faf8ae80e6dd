using System.Runtime.InteropServices;

namespace TsNet.Dataplane.Receive;

/// <summary>
/// The libc calls the batched UDP receive needs (<c>recvmmsg</c>, <c>poll</c>, <c>shutdown</c>), with the 64-bit
/// Linux layouts of their structures, used only where <see cref="IsSupported"/>; and <c>sendto</c> for
/// <see cref="UdpSend"/>, on any Linux.
/// </summary>
internal static unsafe partial class LinuxUdp
{
    /// <summary><c>MSG_DONTWAIT</c>: this call only, whatever the socket's blocking mode.</summary>
    public const int MsgDontWait = 0x40;

    /// <summary><c>MSG_TRUNC</c> in <c>msg_flags</c>: the datagram was larger than the buffer.</summary>
    public const int MsgTrunc = 0x20;

    /// <summary><c>POLLIN</c>.</summary>
    public const short PollIn = 0x1;

    /// <summary><c>SHUT_RDWR</c>.</summary>
    public const int ShutRdWr = 2;

    /// <summary><c>EINTR</c>.</summary>
    public const int EIntr = 4;

    /// <summary><c>EAGAIN</c> / <c>EWOULDBLOCK</c>.</summary>
    public const int EAgain = 11;

    /// <summary>Linux on a 64-bit process: the layouts below are that ABI's.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && IntPtr.Size == 8;

    /// <summary><c>struct iovec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary><c>struct msghdr</c>, 56 bytes (padded after <c>msg_flags</c>).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary><c>struct mmsghdr</c>: a <c>struct msghdr</c> and the received length, 64 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    /// <summary><c>struct pollfd</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary><c>int recvmmsg(int, struct mmsghdr*, unsigned, int, struct timespec*)</c>.</summary>
    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    public static partial int RecvMMsg(int fd, MMsgHdr* messages, uint count, int flags, void* timeout);

    /// <summary><c>int poll(struct pollfd*, nfds_t, int)</c>.</summary>
    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    /// <summary><c>ssize_t sendto(int, const void*, size_t, int, const struct sockaddr*, socklen_t)</c>.</summary>
    [LibraryImport("libc", EntryPoint = "sendto", SetLastError = true)]
    public static partial nint SendTo(int fd, byte* data, nuint length, int flags, byte* address, uint addressLength);

    /// <summary><c>int shutdown(int, int)</c>: wakes a thread waiting on the socket (also an unconnected UDP one).</summary>
    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);
}
