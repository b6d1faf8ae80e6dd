namespace TsNet.Filter;

/// <summary>
/// Flows this node opened, so their replies pass the filter: bounded, least recently used first out when full, and an
/// entry idle longer than the idle limit is gone (checked on lookup and at insert, on explicit time: loop ticks).
/// All storage is allocated up front; adding, refreshing and evicting allocate nothing. Single-threaded (the dataplane
/// task owns it).
/// </summary>
internal sealed class FlowTable
{
    private const int None = -1;

    private readonly Dictionary<FlowKey, int> _index;
    private readonly FlowKey[] _keys;
    private readonly long[] _lastSeen;
    private readonly int[] _newer;
    private readonly int[] _older;
    private readonly long _idleTicks;
    private int _newest = None;
    private int _oldest = None;
    private int _free;
    private int _count;

    /// <param name="capacity">Flows held at most.</param>
    /// <param name="idleTicks">A flow without a packet in either direction for longer than this is forgotten.</param>
    public FlowTable(int capacity, long idleTicks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(idleTicks, 1);
        Capacity = capacity;
        _idleTicks = idleTicks;
        _index = new Dictionary<FlowKey, int>(capacity);
        _keys = new FlowKey[capacity];
        _lastSeen = new long[capacity];
        _newer = new int[capacity];
        _older = new int[capacity];

        // Free slots chain through _older.
        for (var i = 0; i < capacity; i++)
        {
            _older[i] = i + 1 < capacity ? i + 1 : None;
        }
    }

    public int Capacity { get; }

    /// <summary>Flows held (expired ones included until a lookup or insert meets them).</summary>
    public int Count => _count;

    /// <summary>Flows pushed out by a newer one while the table was full (not counting idle expiry).</summary>
    public long Evictions { get; private set; }

    /// <summary>Adds the flow or marks it used at <paramref name="now"/>.</summary>
    public void Touch(in FlowKey key, long now)
    {
        if (_index.TryGetValue(key, out var slot))
        {
            _lastSeen[slot] = now;
            MoveToNewest(slot);
            return;
        }

        // Expired entries sit at the old end: reclaim them before pushing out a live one.
        while (_oldest != None && now - _lastSeen[_oldest] > _idleTicks)
        {
            Remove(_oldest);
        }

        if (_count == Capacity)
        {
            Remove(_oldest);
            Evictions++;
        }

        slot = _free;
        _free = _older[slot];
        _keys[slot] = key;
        _lastSeen[slot] = now;
        _index.Add(key, slot);
        _count++;
        LinkNewest(slot);
    }

    /// <summary>Whether the flow is held and not idle too long; a hit counts as use (the reply keeps the flow alive).</summary>
    public bool TryUse(in FlowKey key, long now)
    {
        if (!_index.TryGetValue(key, out var slot))
        {
            return false;
        }

        if (now - _lastSeen[slot] > _idleTicks)
        {
            Remove(slot);
            return false;
        }

        _lastSeen[slot] = now;
        MoveToNewest(slot);
        return true;
    }

    private void Remove(int slot)
    {
        _index.Remove(_keys[slot]);
        Unlink(slot);
        _keys[slot] = default;
        _older[slot] = _free;
        _free = slot;
        _count--;
    }

    private void MoveToNewest(int slot)
    {
        if (_newest != slot)
        {
            Unlink(slot);
            LinkNewest(slot);
        }
    }

    private void LinkNewest(int slot)
    {
        _newer[slot] = None;
        _older[slot] = _newest;
        if (_newest != None)
        {
            _newer[_newest] = slot;
        }

        _newest = slot;
        if (_oldest == None)
        {
            _oldest = slot;
        }
    }

    private void Unlink(int slot)
    {
        var newer = _newer[slot];
        var older = _older[slot];
        if (newer != None)
        {
            _older[newer] = older;
        }
        else
        {
            _newest = older;
        }

        if (older != None)
        {
            _newer[older] = newer;
        }
        else
        {
            _oldest = newer;
        }
    }
}
