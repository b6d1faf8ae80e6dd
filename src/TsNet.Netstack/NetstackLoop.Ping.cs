using System.Net;

namespace TsNet.Netstack;

/// <summary>Ping bookkeeping of the loop: pending pings, replies, expiry.</summary>
internal sealed partial class NetstackLoop
{
    /// <summary>Starts a ping whose command just reached the loop.</summary>
    private void StartPing(PingCommand ping, long now)
    {
        if (ping.Completion.Task.IsCompleted)
        {
            return; // the caller gave up before the loop got to it
        }

        if (_pendingPings.ContainsKey(ping.Sequence))
        {
            // Only after 65536 pings with one still pending; fail this one rather than confuse the two.
            ping.Completion.TrySetException(new InvalidOperationException("Too many pings in flight."));
            return;
        }

        if (!_core.TrySendEchoRequest(ping.Address, _pingIdentifier, ping.Sequence, PingPayloadBytes, now))
        {
            ping.Completion.TrySetException(new InvalidOperationException(
                $"Cannot ping {ping.Address}: no local address of that family, too many pings in flight, or the outbound queue is full."));
            return;
        }

        long deadline = ping.Timeout == Timeout.InfiniteTimeSpan
            ? long.MaxValue
            : now + ping.Timeout.Ticks;
        _pendingPings[ping.Sequence] = new PendingPing(ping.Address, ping.Completion, now, deadline);
        _nextPingSweep = Math.Min(_nextPingSweep, Math.Min(deadline, now + SweepIntervalTicks));
    }

    private void CancelPing(ushort sequence)
    {
        if (_pendingPings.Remove(sequence, out var pending))
        {
            _core.CancelEchoRequest(pending.Address, _pingIdentifier, sequence);
        }
    }

    /// <summary>Completes pings whose reply the core matched.</summary>
    private void CompletePings()
    {
        while (_core.TryDequeueEchoReply(out var reply))
        {
            if (reply.Identifier == _pingIdentifier && _pendingPings.Remove(reply.Sequence, out var pending))
            {
                pending.Completion.TrySetResult(TimeSpan.FromTicks(reply.ReceivedAt - pending.SentAt));
            }
        }
    }

    /// <summary>Fails pings past their deadline and forgets abandoned ones (at most every sweep interval).</summary>
    private void ExpirePings(long now)
    {
        if (now < _nextPingSweep)
        {
            return;
        }

        long next = long.MaxValue;
        foreach (var (sequence, pending) in _pendingPings)
        {
            if (pending.Deadline <= now || pending.Completion.Task.IsCompleted)
            {
                // The caller's own timer normally fires first; this frees the core's slot and covers clock skew.
                pending.Completion.TrySetException(new TimeoutException($"No echo reply from {pending.Address}."));
                _pendingPings.Remove(sequence);
                _core.CancelEchoRequest(pending.Address, _pingIdentifier, sequence);
            }
            else
            {
                next = Math.Min(next, pending.Deadline);
            }
        }

        _nextPingSweep = _pendingPings.Count == 0 ? long.MaxValue : Math.Min(next, now + SweepIntervalTicks);
    }

    private static long SweepIntervalTicks => PingSweepInterval.Ticks;

    private sealed record PendingPing(IPAddress Address, TaskCompletionSource<TimeSpan> Completion, long SentAt, long Deadline);
}
