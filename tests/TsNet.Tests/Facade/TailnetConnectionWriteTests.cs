using System.Net.Sockets;

namespace TsNet.Tests.Facade;

/// <summary><see cref="TailnetConnection.WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/> after the peer reset the connection.</summary>
public sealed class TailnetConnectionWriteTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task WriteAfterThePeersReset_ThrowsIOException_CarryingConnectionReset()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(82, cts.Token);
            var accepted = listener.AcceptAsync(cts.Token).AsTask();
            await using var client = await a.ConnectTcpAsync("100.64.0.2:82", cts.Token);
            await using var server = (await accepted)!;

            server.Abort();
            // The reset has arrived once a read sees it; a write after that must fail the same way.
            var read = async () => await client.ReadAsync(new byte[10], cts.Token);
            await read.Should().ThrowAsync<IOException>();
            var write = async () => await client.WriteAsync(new byte[100], cts.Token);

            (await write.Should().ThrowExactlyAsync<IOException>()).WithInnerException<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset);
        }
    }

    [Fact]
    public async Task PipeViewAfterThePeersReset_ReportsTheOutputCompleted_AndTheInputThrows()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(84, cts.Token);
            var accepted = listener.AcceptAsync(cts.Token).AsTask();
            await using var client = await a.ConnectTcpAsync("100.64.0.2:84", cts.Token);
            await using var server = (await accepted)!;

            server.Abort();
            var read = async () => await client.Transport.Input.ReadAsync(cts.Token);
            (await read.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset);

            // What a socket transport's output does after a failed send (Kestrel relies on it): no exception, completed.
            var flush = await client.Transport.Output.WriteAsync(new byte[100], cts.Token);
            flush.IsCompleted.Should().BeTrue();
        }
    }

    [Fact]
    public async Task WritingToAPeerThatDoesNotRead_ThrowsIOException_OnceThePeerResets()
    {
        using var cts = new CancellationTokenSource(Bound);
        var (a, b) = await TcpFacadeTests.StartPairAsync(cts.Token);
        await using (a)
        await using (b)
        {
            await using var listener = await b.ListenTcpAsync(83, cts.Token);
            var accepted = listener.AcceptAsync(cts.Token).AsTask();
            await using var client = await a.ConnectTcpAsync("100.64.0.2:83", cts.Token);
            await using var server = (await accepted)!;

            // The server never reads, so windows and pipes fill until a write waits for room (back-pressure); the
            // reset then ends the waiting write, or a later one, and never lets the writer go on unbounded.
            var writer = Task.Run(async () =>
            {
                var chunk = new byte[64 * 1024];
                for (var i = 0; i < 1024; i++)
                {
                    await client.WriteAsync(chunk, cts.Token);
                }
            });
            server.Abort();
            var writing = async () => await writer;

            (await writing.Should().ThrowExactlyAsync<IOException>()).WithInnerException<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.ConnectionReset);
        }
    }
}
