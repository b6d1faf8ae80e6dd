using System.Net;
using Microsoft.Extensions.Logging;
using TsNet.Netstack;
using TsNet.Netstack.Sockets;

namespace TsNet.Services.Fallback;

/// <summary>
/// The fallback TCP service: the registered handlers, consulted in registration order by the netstack's
/// unmatched-flow hook for a SYN no listener takes. Installs the hook only while a handler is registered, so a node
/// without handlers neither accepts flows to other addresses nor answers them.
/// </summary>
internal sealed partial class FallbackTcpRouter
{
    private readonly object _gate = new();
    private readonly FallbackPortTable _ports;
    private readonly ILogger _logger;
    private readonly Action<Task> _track;
    private readonly CancellationToken _stopping;
    private volatile Registration[] _registrations = [];
    private NetstackLoop? _netstack;

    /// <param name="limits">Bounds (design §5).</param>
    /// <param name="timeProvider">Clock for the idle reap.</param>
    /// <param name="logger">Where throwing handlers are reported.</param>
    /// <param name="track">Keeps each served flow's task, so disposing the node waits for it.</param>
    /// <param name="stopping">Cancelled when the node stops; handed to every accepted flow's callback.</param>
    public FallbackTcpRouter(FallbackTcpLimits limits, TimeProvider timeProvider, ILogger logger, Action<Task> track, CancellationToken stopping)
    {
        _ports = new FallbackPortTable(limits, timeProvider);
        _logger = logger;
        _track = track;
        _stopping = stopping;
    }

    /// <summary>Per-port bookkeeping (test hook).</summary>
    internal FallbackPortTable Ports => _ports;

    /// <summary>Connects the router to the started netstack (handlers registered before start take effect now).</summary>
    public void Attach(NetstackLoop netstack)
    {
        lock (_gate)
        {
            _netstack = netstack;
            UpdateHook();
        }
    }

    /// <summary>Adds a handler after those already registered; disposing the result removes it.</summary>
    public IDisposable Register(FallbackTcpHandler handler)
    {
        var registration = new Registration(this, handler);
        lock (_gate)
        {
            _registrations = [.. _registrations, registration];
            UpdateHook();
        }

        return registration;
    }

    private void Unregister(Registration registration)
    {
        lock (_gate)
        {
            _registrations = _registrations.Where(r => r != registration).ToArray();
            UpdateHook();
        }
    }

    private void UpdateHook()
    {
        if (_netstack is { } netstack)
        {
            netstack.UnmatchedTcpFlow = _registrations.Length == 0 ? null : Decide;
        }
    }

    /// <summary>On the netstack's task, for a SYN no listener took: the first claim wins; null means RST.</summary>
    internal UnmatchedTcpFlowClaim? Decide(IPEndPoint source, IPEndPoint destination)
    {
        foreach (var registration in _registrations)
        {
            FallbackDecision decision;
            try
            {
                decision = registration.Handler(source, destination);
            }
            catch (Exception ex)
            {
                LogHandlerThrew(_logger, source.ToString(), destination.ToString(), ex);
                continue; // a throwing handler declines
            }

            switch (decision.Kind)
            {
                case FallbackDecisionKind.Reject:
                    return null;
                case FallbackDecisionKind.Accept when decision.Handle is { } handle:
                    return Claim(destination.Port, handle);
            }
        }

        return null;
    }

    private UnmatchedTcpFlowClaim? Claim(int port, Func<TailnetConnection, CancellationToken, Task> handle)
    {
        if (!_ports.TryClaim(port))
        {
            LogOverLimit(_logger, port);
            return null;
        }

        var released = 0;
        void Release()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                _ports.Release(port);
            }
        }

        return new UnmatchedTcpFlowClaim(
            channel => _track(ServeAsync(new TailnetConnection(channel), handle, Release)),
            Release);
    }

    private async Task ServeAsync(TailnetConnection connection, Func<TailnetConnection, CancellationToken, Task> handle, Action release)
    {
        try
        {
            // Off the netstack's task at once: the handler's synchronous part must never stall packet processing.
            await Task.Run(() => handle(connection, _stopping), CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The node is stopping.
        }
        catch (Exception ex)
        {
            LogServeFailed(_logger, connection.RemoteEndPoint.ToString(), connection.LocalEndPoint.ToString(), ex);
            connection.Abort();
        }
        finally
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            release();
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Fallback TCP handler threw for {Source} -> {Destination}; counted as decline")]
    private static partial void LogHandlerThrew(ILogger logger, string source, string destination, Exception exception);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug, Message = "Fallback TCP flow to port {Port} refused: in-flight or port limit reached")]
    private static partial void LogOverLimit(ILogger logger, int port);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Fallback TCP connection {Source} -> {Destination} failed in its handler")]
    private static partial void LogServeFailed(ILogger logger, string source, string destination, Exception exception);

    private sealed class Registration(FallbackTcpRouter router, FallbackTcpHandler handler) : IDisposable
    {
        private int _disposed;

        public FallbackTcpHandler Handler { get; } = handler;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                router.Unregister(this);
            }
        }
    }
}
