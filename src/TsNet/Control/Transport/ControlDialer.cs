using System.Net.Security;
using System.Net.Sockets;

namespace TsNet.Control.Transport;

/// <summary>
/// Opens one ts2021 connection: TCP (and TLS for https targets), the HTTP/1.1 upgrade carrying the initiation,
/// then the Noise response. Races the dial plan's targets (doc §3).
/// </summary>
internal static class ControlDialer
{
    /// <summary>An established Noise stream (its early payload is read with the first read) and the target that won.</summary>
    public sealed record Result(ControlNoiseStream Stream, ControlDialTarget Target);

    /// <exception cref="ControlTransportException">The server broke the protocol or refused.</exception>
    /// <exception cref="TimeoutException">No target completed within <see cref="ControlConnectionOptions.ConnectTimeout"/>.</exception>
    public static Task<Result> ConnectAsync(ControlConnectionOptions options, CancellationToken cancellationToken)
        => ConnectAsync(options, ControlDialPlan.For(options.ServerUrl), cancellationToken);

    /// <summary>Races explicit <paramref name="targets"/> (tests use loopback ports in place of 80/443).</summary>
    internal static async Task<Result> ConnectAsync(ControlConnectionOptions options, IReadOnlyList<ControlDialTarget> targets, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        using var losers = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);

        var attempts = new List<Task<Result>>(targets.Count);
        try
        {
            int next = 0;
            while (true)
            {
                // Checked first: an attempt may already have completed by the time it is added.
                Task<Result>? winner = attempts.Find(a => a.IsCompletedSuccessfully);
                if (winner is not null)
                {
                    await losers.CancelAsync().ConfigureAwait(false);
                    await DisposeOthersAsync(attempts, winner).ConfigureAwait(false);
                    return winner.Result;
                }

                bool allCompleted = attempts.TrueForAll(a => a.IsCompleted);
                if (allCompleted && next < targets.Count)
                {
                    // The first target, or the next one at once because every earlier attempt failed.
                    attempts.Add(AttemptAsync(options, targets[next++], losers.Token));
                    continue;
                }

                if (allCompleted || timeout.IsCancellationRequested)
                {
                    break;
                }

                var running = new List<Task>(attempts.Count + 1);
                foreach (var attempt in attempts)
                {
                    if (!attempt.IsCompleted)
                    {
                        running.Add(attempt);
                    }
                }

                Task delay = next < targets.Count ? Task.Delay(targets[next].StartDelay, losers.Token) : Task.Delay(Timeout.Infinite, losers.Token);
                running.Add(delay);
                Task finished = await Task.WhenAny(running).ConfigureAwait(false);
                if (finished == delay && !timeout.IsCancellationRequested && next < targets.Count)
                {
                    attempts.Add(AttemptAsync(options, targets[next++], losers.Token));
                }
            }
        }
        finally
        {
            await losers.CancelAsync().ConfigureAwait(false);
        }

        // Attempts still running were cancelled just now; wait for them so none outlives this call (one that
        // completed anyway is closed).
        await DisposeOthersAsync(attempts, winner: null).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var failures = new List<Exception>(attempts.Count);
        foreach (var attempt in attempts)
        {
            try
            {
                await attempt.ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                failures.Add(exception);
            }
        }

        if (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"connecting to the control server {options.ServerUrl} timed out after {options.ConnectTimeout}", failures.Count > 0 ? new AggregateException(failures) : null);
        }

        // One target: its own error says it best; several: the first plus the rest as context.
        if (failures.Count == 0)
        {
            throw new IOException($"could not connect to the control server {options.ServerUrl}");
        }

        if (failures.Count == 1 || failures[0] is ControlTransportException)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failures[0]);
        }

        throw new IOException($"could not connect to the control server {options.ServerUrl}", new AggregateException(failures));
    }

    /// <summary>Dials one target and completes the handshake.</summary>
    public static async Task<Result> AttemptAsync(ControlConnectionOptions options, ControlDialTarget target, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? transport = null;
        try
        {
            await socket.ConnectAsync(target.Host, target.Port, cancellationToken).ConfigureAwait(false);
            transport = new NetworkStream(socket, ownsSocket: true);
            if (target.UseTls)
            {
                var tls = new SslStream(transport, leaveInnerStreamOpen: false);
                transport = tls;
                await tls.AuthenticateAsClientAsync(ControlTls.ClientOptions(target.Host, options.TrustedRootForTests), cancellationToken).ConfigureAwait(false);
            }

            var handshake = new ControlHandshake(options.MachineKey, options.ControlKey, options.ProtocolVersion);
            string hostHeader = options.ServerUrl.IsDefaultPort ? options.ServerUrl.IdnHost : $"{options.ServerUrl.IdnHost}:{options.ServerUrl.Port}";
            await transport.WriteAsync(ControlUpgrade.BuildRequest(hostHeader, handshake.Initiation), cancellationToken).ConfigureAwait(false);
            await transport.FlushAsync(cancellationToken).ConfigureAwait(false);

            var reader = new PrefixReader(transport);
            await ControlUpgrade.ReadResponseAsync(reader, cancellationToken).ConfigureAwait(false);
            ControlSessionKeys keys = await ReadHandshakeAnswerAsync(reader, handshake, cancellationToken).ConfigureAwait(false);

            var stream = new ControlNoiseStream(transport, keys, reader.Remaining, expectEarlyPayload: true);
            return new Result(stream, target);
        }
        catch
        {
            if (transport is not null)
            {
                await transport.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }

            throw;
        }
    }

    private static async ValueTask<ControlSessionKeys> ReadHandshakeAnswerAsync(PrefixReader reader, ControlHandshake handshake, CancellationToken cancellationToken)
    {
        byte[]? header = await reader.ReadExactlyAsync(ControlNoise.HeaderSize, cancellationToken).ConfigureAwait(false)
            ?? throw new ControlTransportException("control server closed the connection after the upgrade without a handshake response (it rejected the initiation)");
        int length = ControlHandshake.ParseServerHeader(header, out _);
        byte[]? payload = await reader.ReadExactlyAsync(length, cancellationToken).ConfigureAwait(false)
            ?? throw new ControlTransportException("control server closed the connection in the middle of its handshake response");
        byte[] message = [.. header, .. payload];
        return handshake.ReadResponse(message);
    }

    private static async ValueTask DisposeOthersAsync(List<Task<Result>> attempts, Task<Result>? winner)
    {
        foreach (var attempt in attempts)
        {
            if (attempt == winner)
            {
                continue;
            }

            try
            {
                Result other = await attempt.ConfigureAwait(false);
                await other.Stream.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Its failure (usually the cancellation) is reported, if at all, from the attempt task itself.
            }
        }
    }
}
