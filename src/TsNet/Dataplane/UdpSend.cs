using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using TsNet.Dataplane.Receive;

namespace TsNet.Dataplane;

/// <summary>
/// One UDP datagram out of a non-blocking socket, with the kernel's refusal (a full socket buffer under congestion, a
/// datagram too large) as an error code: on Linux through <c>sendto(2)</c>, because
/// <see cref="Socket.SendTo(ReadOnlySpan{byte}, SocketFlags, SocketAddress)"/> throws a <see cref="SocketException"/>
/// instead, which allocates and unwinds for every dropped datagram, exactly when the path is busiest.
/// </summary>
internal static unsafe class UdpSend
{
    /// <summary>Sends <paramref name="datagram"/> to <paramref name="address"/> without blocking; the socket error, <see cref="SocketError.Success"/> when sent.</summary>
    /// <exception cref="ObjectDisposedException">The socket was closed.</exception>
    public static SocketError SendTo(Socket socket, ReadOnlySpan<byte> datagram, SocketAddress address)
    {
        if (!OperatingSystem.IsLinux())
        {
            try
            {
                socket.SendTo(datagram, SocketFlags.None, address);
                return SocketError.Success;
            }
            catch (SocketException ex)
            {
                return ex.SocketErrorCode;
            }
        }

        var handle = socket.SafeHandle;
        var added = false;
        try
        {
            // The reference keeps the descriptor from being closed and reused while the call runs.
            handle.DangerousAddRef(ref added);
            fixed (byte* data = datagram)
            fixed (byte* sockaddr = address.Buffer.Span)
            {
                // address holds the native sockaddr (UnderlayAddress.WriteTo keeps the platform's family value).
                var sent = LinuxUdp.SendTo((int)handle.DangerousGetHandle(), data, (nuint)datagram.Length, LinuxUdp.MsgDontWait, sockaddr, (uint)address.Size);
                return sent >= 0 ? SocketError.Success : FromErrno(Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>The Linux errno values a UDP send reports, as the <see cref="SocketError"/> .NET would have thrown.</summary>
    internal static SocketError FromErrno(int errno) => errno switch
    {
        1 or 13 => SocketError.AccessDenied, // EPERM (a firewall), EACCES (broadcast without SO_BROADCAST)
        LinuxUdp.EIntr => SocketError.Interrupted,
        LinuxUdp.EAgain => SocketError.WouldBlock, // the send buffer is full
        22 => SocketError.InvalidArgument, // EINVAL
        90 => SocketError.MessageSize, // EMSGSIZE
        97 => SocketError.AddressFamilyNotSupported, // EAFNOSUPPORT
        99 => SocketError.AddressNotAvailable, // EADDRNOTAVAIL
        101 => SocketError.NetworkUnreachable, // ENETUNREACH
        105 => SocketError.NoBufferSpaceAvailable, // ENOBUFS
        111 => SocketError.ConnectionRefused, // ECONNREFUSED: an ICMP error from an earlier send
        113 => SocketError.HostUnreachable, // EHOSTUNREACH
        _ => SocketError.SocketError,
    };
}
