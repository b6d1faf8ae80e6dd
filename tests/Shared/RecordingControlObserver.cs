using System.Threading.Channels;
using TsNet.Control.Netmap;
using TsNet.Control.Session;

namespace TsNet.TestSupport;

/// <summary>
/// Records what a control session reports, in order, and lets a test wait (bounded) for a kind of report. A fault
/// ends any wait for something else with the fault. <see cref="NetmapGate"/> lets a test hold the session inside
/// <c>OnNetmapAsync</c> (back-pressure).
/// </summary>
internal sealed class RecordingControlObserver : IControlObserver
{
    private readonly Channel<object> _events = Channel.CreateUnbounded<object>();
    private readonly List<object> _seen = [];

    /// <summary>Set to make <c>OnNetmapAsync</c> wait for it.</summary>
    public TaskCompletionSource? NetmapGate { get; set; }

    /// <summary>Every report read by a wait so far.</summary>
    public IReadOnlyList<object> Seen => _seen;

    public void OnLoginRequired(Uri authUrl) => _events.Writer.TryWrite(new LoginRequired(authUrl));

    public void OnLoginRefused(string message) => _events.Writer.TryWrite(new LoginRefused(message));

    public void OnControlConnectionChanged(bool connected, Exception? error) => _events.Writer.TryWrite(new ConnectionChanged(connected, error));

    public async ValueTask OnNetmapAsync(NetmapUpdate update, CancellationToken cancellationToken)
    {
        _events.Writer.TryWrite(new NetmapReceived(update));
        if (NetmapGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }
    }

    public ValueTask OnNodeKeyChangedAsync(WireGuardKey nodePrivateKey, CancellationToken cancellationToken)
    {
        _events.Writer.TryWrite(new NodeKeyChanged(nodePrivateKey));
        return ValueTask.CompletedTask;
    }

    public void OnSessionFaulted(Exception error) => _events.Writer.TryWrite(new Faulted(error));

    /// <summary>Reads reports until one of type <typeparamref name="T"/> matching <paramref name="match"/> arrives.</summary>
    public async Task<T> WaitForAsync<T>(TimeSpan timeout, Func<T, bool>? match = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var next = await _events.Reader.ReadAsync(cts.Token);
                _seen.Add(next);
                if (next is T wanted && (match is null || match(wanted)))
                {
                    return wanted;
                }

                if (next is Faulted fault)
                {
                    throw new InvalidOperationException("the session faulted while waiting for " + typeof(T).Name, fault.Error);
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"no {typeof(T).Name} within {timeout.TotalSeconds:0} s; seen: {string.Join(", ", _seen)}");
        }
    }

    /// <summary>True when a report is waiting unread.</summary>
    public bool HasPending => _events.Reader.Count > 0;

    public sealed record LoginRequired(Uri AuthUrl);

    public sealed record LoginRefused(string Message);

    public sealed record ConnectionChanged(bool Connected, Exception? Error);

    public sealed record NetmapReceived(NetmapUpdate Update);

    public sealed record NodeKeyChanged(WireGuardKey NodeKey);

    public sealed record Faulted(Exception Error);
}
