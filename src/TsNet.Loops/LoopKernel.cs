using System.Threading.Channels;

namespace TsNet.Loops;

/// <summary>
/// What the netstack and dataplane loops share: the loop task's turn-and-sleep cycle (<see cref="RunAsync"/>), one
/// allocation-free wait (<see cref="Wake"/>), one clock (<see cref="Clock"/>: 100 ns ticks since the loop was made),
/// a bounded queue of typed commands, and one failure policy.
/// </summary>
/// <remarks>
/// Failure policy: an exception escaping a turn faults the loop. The loop task then fails the command it was running,
/// every queued command and every later one with an <see cref="InvalidOperationException"/> whose
/// <see cref="Exception.InnerException"/> is the cause, lets the loop fail its own waiters
/// (<see cref="ILoopBody.OnFaulted"/>), and — before any of that, so callers never see a failure the owner does not
/// know of — exposes the cause as <see cref="Fault"/> and raises <see cref="Faulted"/> once, so the owner logs it once
/// and reports it. The loop task itself ends normally.
/// </remarks>
/// <typeparam name="TLoop">The loop that owns this kernel.</typeparam>
internal sealed class LoopKernel<TLoop> : IDisposable
    where TLoop : class, ILoopBody
{
    private readonly TLoop _loop;
    private readonly string _name;
    private readonly string _disposedObjectName;
    private readonly Channel<LoopCommand<TLoop>> _commands;
    private readonly CancellationToken _stopping;
    private Exception? _fault;
    private Exception? _requestedFault;

    /// <summary>Creates the kernel of <paramref name="loop"/>; nothing runs before <see cref="RunAsync"/>.</summary>
    /// <param name="loop">The loop whose turns this kernel runs.</param>
    /// <param name="name">Short name for failure messages (<c>netstack</c>, <c>dataplane</c>).</param>
    /// <param name="disposedObjectName">Object name of the <see cref="ObjectDisposedException"/> callers get after stop.</param>
    /// <param name="timeProvider">The loop's clock and timer source.</param>
    /// <param name="commandCapacity">Commands waiting at most; senders wait for room (application back-pressure).</param>
    /// <param name="stopping">Cancelled when the loop stops.</param>
    public LoopKernel(TLoop loop, string name, string disposedObjectName, TimeProvider timeProvider, int commandCapacity, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentOutOfRangeException.ThrowIfLessThan(commandCapacity, 1);
        _loop = loop;
        _name = name;
        _disposedObjectName = disposedObjectName;
        _stopping = stopping;
        Clock = new LoopClock(timeProvider);
        Wake = new LoopWake(Clock, stopping);
        _commands = Channel.CreateBounded<LoopCommand<TLoop>>(new BoundedChannelOptions(commandCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>The loop's clock.</summary>
    public LoopClock Clock { get; }

    /// <summary>The loop's wait; producers <see cref="LoopWake.Set"/> it after queueing work.</summary>
    public LoopWake Wake { get; }

    /// <summary>Loop ticks now.</summary>
    public long Now => Clock.Now;

    /// <summary>Why the loop faulted; null while it is healthy (or merely stopped).</summary>
    public Exception? Fault => Volatile.Read(ref _fault);

    /// <summary>Raised once, on the loop task, when the loop faults; the argument is the cause.</summary>
    public event Action<Exception>? Faulted;

    /// <summary>
    /// Queues <paramref name="command"/> (waiting for room) and waits for its result.
    /// </summary>
    /// <exception cref="InvalidOperationException">The loop faulted (the inner exception is the cause).</exception>
    /// <exception cref="ObjectDisposedException">The loop was stopped.</exception>
    public async ValueTask<TResult> InvokeAsync<TResult>(LoopCommand<TLoop, TResult> command, CancellationToken cancellationToken)
    {
        await PostAsync(command, cancellationToken).ConfigureAwait(false);
        return await command.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Queues <paramref name="command"/>, waiting for room in the queue.</summary>
    /// <exception cref="InvalidOperationException">The loop faulted (the inner exception is the cause).</exception>
    /// <exception cref="ObjectDisposedException">The loop was stopped.</exception>
    public async ValueTask PostAsync(LoopCommand<TLoop> command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (_commands.Writer.TryWrite(command))
        {
            Wake.Set();
            return;
        }

        try
        {
            await _commands.Writer.WriteAsync(command, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw Unavailable();
        }

        Wake.Set();
    }

    /// <summary>Queues <paramref name="command"/> if the queue has room and the loop is running.</summary>
    public bool TryPost(LoopCommand<TLoop> command)
    {
        if (!_commands.Writer.TryWrite(command))
        {
            return false;
        }

        Wake.Set();
        return true;
    }

    /// <summary>Runs up to <paramref name="limit"/> queued commands; true when the limit was hit and more may wait.</summary>
    public async ValueTask<bool> RunCommandsAsync(long now, int limit)
    {
        for (var i = 0; i < limit; i++)
        {
            if (!_commands.Reader.TryRead(out var command))
            {
                return false;
            }

            try
            {
                await command.ExecuteAsync(_loop, now).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                command.Fail(e is OperationCanceledException && _stopping.IsCancellationRequested
                    ? new ObjectDisposedException(_disposedObjectName)
                    : FailureOf(e));
                throw;
            }
        }

        return true;
    }

    /// <summary>
    /// The loop task: turns (<see cref="ILoopBody.StepAsync"/>) while work is waiting, else sleeps until a wake, the
    /// next deadline (at most <see cref="LoopWake.MaxIdleWait"/>) or stop. Never throws: a fault is handled by the
    /// failure policy, a stop ends it.
    /// </summary>
    public async Task RunAsync()
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                if (Volatile.Read(ref _requestedFault) is { } requested)
                {
                    throw requested;
                }

                if (await _loop.StepAsync(Clock.Now).ConfigureAwait(false))
                {
                    continue;
                }

                await Wake.WaitAsync(_loop.NextDeadline).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception e)
        {
            EnterFault(e);
        }
    }

    /// <summary>
    /// Asks the loop to fault with <paramref name="cause"/> at its next turn (thread-safe): how a node takes a loop
    /// down together with another one that faulted, so callers of both fail with the same cause.
    /// </summary>
    public void RequestFault(Exception cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        Interlocked.CompareExchange(ref _requestedFault, cause, null);
        Wake.Set();
    }

    /// <summary>
    /// After the loop task ended (stop): refuses later commands and fails the queued ones with
    /// <paramref name="reason"/>. Idempotent.
    /// </summary>
    public void CloseCommands(Exception reason)
    {
        _commands.Writer.TryComplete();
        while (_commands.Reader.TryRead(out var command))
        {
            command.Fail(reason);
        }
    }

    /// <summary>The exception for a caller that finds the loop gone: the fault's, else a disposed loop's.</summary>
    public Exception Unavailable() =>
        Fault is { } cause ? FailureOf(cause) : new ObjectDisposedException(_disposedObjectName);

    /// <summary>An exception for a caller failed by a loop fault: its inner exception is the cause.</summary>
    public Exception FailureOf(Exception cause) =>
        new InvalidOperationException($"The {_name} loop failed: {cause.Message}", cause);

    /// <summary>Disposes the wait's timer and registration (after the loop task ended).</summary>
    public void Dispose() => Wake.Dispose();

    private void EnterFault(Exception cause)
    {
        Volatile.Write(ref _fault, cause);
        try
        {
            // First, so the owner knows (and reports) the fault before any caller sees its call fail.
            Faulted?.Invoke(cause);
        }
        finally
        {
            var failure = FailureOf(cause);
            CloseCommands(failure);
            _loop.OnFaulted(failure);
        }
    }
}
