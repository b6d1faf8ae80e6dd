using System.Net;
using System.Text;
using TsNet;

namespace FallbackRouter;

/// <summary>The app connector itself: every TCP flow to port 80, to any address, gets a page naming that address.</summary>
internal static class AppConnector
{
    public static IDisposable Register(TailnetServer node) =>
        node.RegisterFallbackTcpHandler((source, destination) => destination.Port == 80
            ? FallbackDecision.Accept((connection, token) => AnswerAsync(connection, source, destination, token))
            : FallbackDecision.Decline); // anything else: RST, as if nobody were there

    private static async Task AnswerAsync(TailnetConnection connection, IPEndPoint source, IPEndPoint destination, CancellationToken token)
    {
        var head = new StringBuilder();
        var buffer = new byte[1024];
        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal) && head.Length < 16 * 1024)
        {
            var n = await connection.ReadAsync(buffer, token);
            if (n == 0)
            {
                return;
            }

            head.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        var page = Encoding.UTF8.GetBytes($"<h1>You asked for {destination}</h1><p>from {source}, answered in-process by TsNet</p>\n");
        await connection.WriteAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {page.Length}\r\nConnection: close\r\n\r\n"), token);
        await connection.WriteAsync(page, token);
        await connection.ShutdownWriteAsync(token);
    }
}
