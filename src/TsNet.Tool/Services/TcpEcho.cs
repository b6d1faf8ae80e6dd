using System.Buffers;

namespace TsNet.Tool.Services;

/// <summary><c>--echo PORT</c>: every byte a TCP client sends comes back; the client's FIN is answered with ours.</summary>
internal static class TcpEcho
{
    private const int BufferBytes = 64 * 1024;

    /// <summary>Echoes until the client closes its sending side, then closes ours.</summary>
    public static async Task HandleAsync(TailnetConnection connection, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            int read;
            while ((read = await connection.ReadAsync(buffer.AsMemory(0, BufferBytes), cancellationToken).ConfigureAwait(false)) > 0)
            {
                await connection.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            await connection.ShutdownWriteAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
