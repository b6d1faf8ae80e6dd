using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace TsNet.Tool.LocalApi;

/// <summary>Sends one request to the local API of the node on a socket path and reads its answer lines.</summary>
internal static class LocalApiClient
{
    /// <summary>Longest answer line accepted: a status of a large tailnet fits many times over.</summary>
    public const int MaxAnswerBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Sends <paramref name="request"/> and yields each answer line until the node closes the connection; each line must
    /// come within <paramref name="lineTimeout"/>.
    /// </summary>
    /// <exception cref="LocalApiException">No node answers on <paramref name="socketPath"/>, or it stopped answering.</exception>
    public static async IAsyncEnumerable<LocalApiAnswer> AskAsync(string socketPath, string request, TimeSpan lineTimeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var socket = await ConnectAsync(socketPath, cancellationToken).ConfigureAwait(false);
        var reader = new SocketLineReader(socket, MaxAnswerBytes);
        await socket.SendAsync(Encoding.UTF8.GetBytes(request + "\n"), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            string? line;
            using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                limit.CancelAfter(lineTimeout);
                try
                {
                    line = await reader.ReadLineAsync(limit.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new LocalApiException($"the node on {socketPath} did not answer within {lineTimeout.TotalSeconds:0} s", e);
                }
                catch (Exception e) when (e is SocketException or InvalidDataException)
                {
                    throw new LocalApiException($"the node on {socketPath} broke off its answer: {e.Message}", e);
                }
            }

            if (line is null)
            {
                yield break;
            }

            LocalApiAnswer answer;
            try
            {
                answer = LocalApiAnswer.Parse(line);
            }
            catch (InvalidDataException e)
            {
                throw new LocalApiException($"{socketPath}: {e.Message}", e);
            }

            yield return answer;
        }
    }

    private static async Task<Socket> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            socket.Dispose();
            var reason = e switch
            {
                SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "a socket is there, but nothing listens",
                SocketException when !File.Exists(socketPath) => "no such socket",
                _ => e.Message,
            };
            throw new LocalApiException($"no node answers on {socketPath} ({reason}): is 'tsnet up' running? Point at its socket with --socket PATH or --state DIR", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
