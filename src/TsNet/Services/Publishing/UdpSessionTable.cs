using System.Net;

namespace TsNet.Services.Publishing;

/// <summary>
/// The UDP sessions of one published port, keyed by the remote sender: bounded in count, each expiring when neither
/// direction carried a datagram for the idle time. Sans-IO: the caller passes the time (timestamps of the node's
/// <see cref="TimeProvider"/>) and closes what <see cref="RemoveIdle"/> hands back. Thread-safe (the receive loops
/// of both directions touch it), with one small lock never held across I/O.
/// </summary>
/// <typeparam name="TSession">Whatever the caller keeps per session (its sockets and loop).</typeparam>
internal sealed class UdpSessionTable<TSession>
    where TSession : class
{
    private readonly Dictionary<IPEndPoint, Entry> _entries = new();
    private readonly int _maxSessions;
    private readonly long _idleTimestamps;

    /// <param name="maxSessions">Most sessions at once; <see cref="TryAdd"/> refuses beyond it.</param>
    /// <param name="idleTimeout">How long a session lives without a datagram either way.</param>
    /// <param name="timestampFrequency">Timestamp units per second of the clock the caller reads <c>now</c> from.</param>
    public UdpSessionTable(int maxSessions, TimeSpan idleTimeout, long timestampFrequency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSessions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(idleTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(timestampFrequency, 1);
        _maxSessions = maxSessions;
        _idleTimestamps = checked((long)(idleTimeout.TotalSeconds * timestampFrequency));
    }

    /// <summary>Live sessions.</summary>
    public int Count
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Whether one more session fits.</summary>
    public bool HasRoom
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count < _maxSessions;
            }
        }
    }

    /// <summary>The session of <paramref name="remote"/>, marked active at <paramref name="now"/>; false when it has none.</summary>
    public bool TryGet(IPEndPoint remote, long now, out TSession session)
    {
        lock (_entries)
        {
            if (_entries.TryGetValue(remote, out var entry))
            {
                entry.LastActivity = now;
                session = entry.Session;
                return true;
            }
        }

        session = null!;
        return false;
    }

    /// <summary>Adds a session for <paramref name="remote"/>; false when the table is full or the sender already has one.</summary>
    public bool TryAdd(IPEndPoint remote, TSession session, long now)
    {
        lock (_entries)
        {
            return _entries.Count < _maxSessions && _entries.TryAdd(remote, new Entry(session, now));
        }
    }

    /// <summary>Marks the session of <paramref name="remote"/> active (a datagram went the other way).</summary>
    public void Touch(IPEndPoint remote, long now)
    {
        lock (_entries)
        {
            if (_entries.TryGetValue(remote, out var entry))
            {
                entry.LastActivity = Math.Max(entry.LastActivity, now);
            }
        }
    }

    /// <summary>Removes and returns the sessions idle for the idle time or longer at <paramref name="now"/>.</summary>
    public IReadOnlyList<TSession> RemoveIdle(long now)
    {
        List<TSession>? expired = null;
        lock (_entries)
        {
            foreach (var (remote, entry) in _entries)
            {
                if (now - entry.LastActivity >= _idleTimestamps)
                {
                    (expired ??= new List<TSession>()).Add(entry.Session);
                    _entries.Remove(remote); // removing the current entry while enumerating is allowed for Dictionary
                }
            }
        }

        return (IReadOnlyList<TSession>?)expired ?? [];
    }

    /// <summary>Removes <paramref name="remote"/>'s session if it is still <paramref name="session"/>.</summary>
    public bool Remove(IPEndPoint remote, TSession session)
    {
        lock (_entries)
        {
            if (_entries.TryGetValue(remote, out var entry) && ReferenceEquals(entry.Session, session))
            {
                _entries.Remove(remote);
                return true;
            }
        }

        return false;
    }

    /// <summary>Removes and returns every session (the port is closing).</summary>
    public IReadOnlyList<TSession> RemoveAll()
    {
        lock (_entries)
        {
            var all = _entries.Values.Select(e => e.Session).ToList();
            _entries.Clear();
            return all;
        }
    }

    private sealed class Entry(TSession session, long lastActivity)
    {
        public TSession Session { get; } = session;

        public long LastActivity { get; set; } = lastActivity;
    }
}
