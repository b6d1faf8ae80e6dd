using Microsoft.Extensions.Logging;
using TsNet.Dataplane;
using TsNet.Netstack;

namespace TsNet;

// Loop faults: a bug that escapes a loop's turn takes the node down as a whole. The first fault is kept, logged once
// and reported by GetStatus; the other loop is faulted with the same cause, so pending calls on either loop fail
// with it and later calls fail fast instead of hanging until dispose.
public sealed partial class TailnetServer
{
    private Exception? _fault;

    /// <summary>Why the node faulted (the first loop fault's cause); null while healthy.</summary>
    internal Exception? Fault => Volatile.Read(ref _fault);

    private void OnLoopFaulted(string loop, Exception cause)
    {
        if (Interlocked.CompareExchange(ref _fault, cause, null) is not null)
        {
            return; // the other loop, taken down by the first fault: already logged
        }

        LogLoopFaulted(_logger, loop, cause);
        EnterFaulted(cause);
        DataplaneLoop? dataplane;
        NetstackLoop? netstack;
        lock (_gate)
        {
            dataplane = _dataplane;
            netstack = _netstack;
        }

        dataplane?.RequestFault(cause);
        netstack?.RequestFault(cause);
    }

    /// <summary>Test hook: faults one loop with <paramref name="cause"/>, as a bug escaping its turn would.</summary>
    internal void FaultLoopForTest(bool dataplane, Exception cause)
    {
        var (dataplaneLoop, netstackLoop) = Started();
        if (dataplane)
        {
            dataplaneLoop.RequestFault(cause);
        }
        else
        {
            netstackLoop.RequestFault(cause);
        }
    }

    /// <summary>Throws the node's fault for a call that cannot proceed: its inner exception is the cause.</summary>
    /// <exception cref="InvalidOperationException">The node faulted.</exception>
    private void ThrowIfFaulted()
    {
        if (Fault is { } cause)
        {
            throw new InvalidOperationException($"The node faulted: {cause.Message}", cause);
        }
    }

    /// <summary>The status of a faulted node (its loops are gone, so there are no sessions to read); null while healthy.</summary>
    private TailnetStatus? FaultedStatus() =>
        Fault is { } cause
            ? new TailnetStatus(PublicKey, _addresses, ListenPort, [], new Dictionary<string, long>()) { Fault = Describe(cause) }
            : null;

    private static string Describe(Exception cause) => $"{cause.GetType().FullName}: {cause.Message}";

    [LoggerMessage(EventId = 1001, Level = LogLevel.Critical, Message = "The {Loop} loop failed; the node is faulted and fails every call")]
    private static partial void LogLoopFaulted(ILogger logger, string loop, Exception exception);
}
