using System.Net.Sockets;
using System.Text;

namespace TsNet.Tests.Socks5;

/// <summary>Servers on the far node: a minimal HTTP/1.1 responder, a TCP echo and a UDP echo, each until cancelled.</summary>
internal static class OverlayServers
{
    /// <summary>Answers every GET with <c>hello {path} from {local endpoint}</c> and closes; connections served concurrently.</summary>
    public static async Task ServeHttpAsync(TailnetListener listener, CancellationToken cancellationToken)
    {
        var running = new List<Task>();
        try
        {
            while (await listener.AcceptAsync(cancellationToken) is { } connection)
            {
                running.Add(RespondAsync(connection, cancellationToken));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(running);
    }

    public static async Task ServeEchoAsync(TailnetListener listener, CancellationToken cancellationToken)
    {
        var running = new List<Task>();
        try
        {
            while (await listener.AcceptAsync(cancellationToken) is { } connection)
            {
                running.Add(EchoAsync(connection, cancellationToken));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(running);
    }

    public static async Task ServeUdpEchoAsync(TailnetUdpSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[2048];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveFromAsync(buffer, cancellationToken);
                await socket.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), (System.Net.IPEndPoint)received.RemoteEndPoint, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static async Task EchoAsync(TailnetConnection connection, CancellationToken cancellationToken)
    {
        await using (connection)
        {
            try
            {
                await connection.CopyToAsync(connection, cancellationToken);
                await connection.ShutdownWriteAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
            }
        }
    }

    private static async Task RespondAsync(TailnetConnection connection, CancellationToken cancellationToken)
    {
        await using (connection)
        {
            try
            {
                var request = new StringBuilder();
                var buffer = new byte[1024];
                for (var i = 0; i < 64 && !request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal); i++)
                {
                    var n = await connection.ReadAsync(buffer, cancellationToken);
                    if (n == 0)
                    {
                        return;
                    }

                    request.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }

                var path = request.ToString().Split(' ')[1];
                var body = Encoding.UTF8.GetBytes($"hello {path} from {connection.LocalEndPoint}");
                var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                await connection.WriteAsync(head, cancellationToken);
                await connection.WriteAsync(body, cancellationToken);
                await connection.ShutdownWriteAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }
}
