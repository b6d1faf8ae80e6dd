using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TsNet.Tests.Socks5;

/// <summary>A raw-socket SOCKS5 client for tests: exact bytes in, exact bytes (or a close) out, every read bounded.</summary>
internal static class Socks5TestClient
{
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    public static async Task<Socket> ConnectAsync(LoopbackProxy proxy, CancellationToken cancellationToken)
    {
        var socket = new Socket(proxy.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(proxy.EndPoint, cancellationToken);
        return socket;
    }

    public static byte[] Greeting() => [0x05, 0x01, 0x02];

    public static byte[] Auth(string username, string password)
    {
        var user = Encoding.UTF8.GetBytes(username);
        var pass = Encoding.UTF8.GetBytes(password);
        return [0x01, (byte)user.Length, .. user, (byte)pass.Length, .. pass];
    }

    public static byte[] Request(byte command, IPEndPoint target)
    {
        var address = target.Address.GetAddressBytes();
        var port = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(port, (ushort)target.Port);
        return [0x05, command, 0x00, (byte)(address.Length == 4 ? 0x01 : 0x04), .. address, .. port];
    }

    public static byte[] Request(byte command, string host, int port)
    {
        var name = Encoding.ASCII.GetBytes(host);
        return [0x05, command, 0x00, 0x03, (byte)name.Length, .. name, (byte)(port >> 8), (byte)port];
    }

    /// <summary>Greeting and authentication; asserts both answers.</summary>
    public static async Task<Socket> AuthenticatedAsync(LoopbackProxy proxy, CancellationToken cancellationToken)
    {
        var socket = await ConnectAsync(proxy, cancellationToken);
        await socket.SendAsync(Greeting(), cancellationToken);
        (await ReadExactlyAsync(socket, 2, cancellationToken)).Should().Equal(0x05, 0x02);
        await socket.SendAsync(Auth(proxy.Username, proxy.Password), cancellationToken);
        (await ReadExactlyAsync(socket, 2, cancellationToken)).Should().Equal(0x01, 0x00);
        return socket;
    }

    /// <summary>Authenticates, sends a CONNECT to <paramref name="target"/> and returns the socket and the whole reply.</summary>
    public static async Task<(Socket Socket, byte[] Reply)> ConnectThroughAsync(LoopbackProxy proxy, IPEndPoint target, CancellationToken cancellationToken)
    {
        var socket = await AuthenticatedAsync(proxy, cancellationToken);
        await socket.SendAsync(Request(0x01, target), cancellationToken);
        return (socket, await ReadReplyAsync(socket, cancellationToken));
    }

    /// <summary>Reads a request reply: VER REP RSV ATYP then the address of that type and the port.</summary>
    public static async Task<byte[]> ReadReplyAsync(Socket socket, CancellationToken cancellationToken)
    {
        var head = await ReadExactlyAsync(socket, 4, cancellationToken);
        var rest = head[3] switch
        {
            0x01 => 4 + 2,
            0x04 => 16 + 2,
            _ => throw new InvalidDataException($"unexpected ATYP {head[3]}"),
        };
        return [.. head, .. await ReadExactlyAsync(socket, rest, cancellationToken)];
    }

    public static async Task<byte[]> ReadExactlyAsync(Socket socket, int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        using var step = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        step.CancelAfter(Step);
        for (var read = 0; read < count;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, step.Token);
            if (n == 0)
            {
                throw new EndOfStreamException($"closed after {read} of {count} bytes");
            }

            read += n;
        }

        return buffer;
    }

    /// <summary>Everything the proxy sends until it closes (FIN or RST), within <paramref name="limit"/>; throws on timeout.</summary>
    public static async Task<byte[]> ReadUntilClosedAsync(Socket socket, TimeSpan limit, CancellationToken cancellationToken)
    {
        using var step = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        step.CancelAfter(limit);
        var received = new List<byte>();
        var buffer = new byte[512];
        for (var i = 0; i < 10_000; i++)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(buffer, SocketFlags.None, step.Token);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                return received.ToArray();
            }

            if (n == 0)
            {
                return received.ToArray();
            }

            received.AddRange(buffer.AsSpan(0, n).ToArray());
        }

        throw new InvalidOperationException("the proxy kept sending");
    }

    public static byte[] Failure(byte reply) => [0x05, reply, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
}
