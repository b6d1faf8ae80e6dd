using TsNet.Control.Protocol;

namespace TsNet.Derp;

/// <summary>
/// The node's DERP connections, one per region: a kept (reconnecting) connection to the home region and on-demand
/// ones to the regions peers live in, closed after <see cref="DerpClientSetOptions.IdleTimeout"/> without a send.
/// Received packets go to the dataplane's inbound queue as <c>source node key (32) ‖ packet</c> from
/// <c>UnderlayAddress.Derp(region)</c>.
/// </summary>
/// <remarks>
/// Threads: <see cref="TrySend"/> runs on the dataplane loop and takes no lock (it reads a copy-on-write region
/// table); map, home and status calls may come from any thread and serialize on <see cref="_lock"/>. Each region
/// runs one task (connect, reader + writer, reconnect); one more task checks idle regions and dead connections.
/// </remarks>
internal sealed class DerpClientSet : IAsyncDisposable
{
    /// <summary>
    /// How often idle regions and read timeouts are checked (Go's DERP cleanup runs every 15 s); a shorter
    /// <see cref="DerpClientSetOptions.IdleTimeout"/> checks twice per timeout.
    /// </summary>
    public static readonly TimeSpan DefaultMaintenanceInterval = TimeSpan.FromSeconds(15);

    /// <summary>A connection with no frame for this long is dead (the server keeps it alive every ~60 s).</summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(120);

    private readonly DerpClientContext _context;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Lock _lock = new();
    private readonly List<Task> _closedTasks = [];
    private readonly Task _maintenance;
    private volatile Dictionary<int, DerpRegionClient> _clients = [];
    private Dictionary<int, DERPRegion> _regions = [];
    private int _home;
    private int _disposed;

    /// <summary>Creates the set; nothing connects until a map and a home region or a send asks for it.</summary>
    public DerpClientSet(DerpClientSetOptions options)
    {
        _context = new DerpClientContext(options);
        _maintenance = MaintainAsync(_lifetime.Token);
    }

    /// <summary>
    /// Raised on a reader task when the server reports a peer gone: (region, peer node key). Keep handlers cheap.
    /// </summary>
    public event Action<int, WireGuardKey>? PeerGone;

    /// <summary>Raised on the region's task when a region (re)connected (the caller re-sends disco then).</summary>
    public event Action<int>? Connected;

    /// <summary>The period of the idle and read-timeout check: 15 s, or half the idle timeout when that is shorter.</summary>
    public TimeSpan MaintenanceInterval =>
        _context.IdleTimeout / 2 < DefaultMaintenanceInterval ? _context.IdleTimeout / 2 : DefaultMaintenanceInterval;

    /// <summary>The home region, 0 = none.</summary>
    public int HomeRegion => Volatile.Read(ref _home);

    /// <summary>Packets refused or lost on sending (unknown region, too big, full queue, lost with a connection).</summary>
    public long SendDrops => _context.SendDrops;

    /// <summary>Received packets dropped (no pool buffer fits, full inbound queue).</summary>
    public long InboundDrops => _context.InboundDrops;

    /// <summary>Every task the set runs; all complete after <see cref="DisposeAsync"/>.</summary>
    public IEnumerable<Task> Tasks
    {
        get
        {
            lock (_lock)
            {
                var tasks = new List<Task>(_clients.Count + _closedTasks.Count + 1) { _maintenance };
                tasks.AddRange(_closedTasks);
                tasks.AddRange(_clients.Values.Select(client => client.Task));
                return tasks;
            }
        }
    }

    /// <summary>
    /// Replaces the DERP map (null = none): connections to regions no longer in it close; the others take the new
    /// node list at their next connect. Any thread.
    /// </summary>
    public void SetDerpMap(DERPMap? map)
    {
        var regions = new Dictionary<int, DERPRegion>();
        foreach (var (id, region) in map?.Regions ?? new Dictionary<int, DERPRegion?>())
        {
            if (region is not null && IsUsableRegionId(id))
            {
                regions[id] = region.RegionID == id ? region : region with { RegionID = id };
            }
        }

        lock (_lock)
        {
            if (IsDisposed)
            {
                return;
            }

            _regions = regions;
            var clients = new Dictionary<int, DerpRegionClient>(_clients);
            foreach (var (id, client) in _clients)
            {
                if (regions.TryGetValue(id, out var region))
                {
                    client.Region = region;
                }
                else
                {
                    CloseLocked(clients, client, "no longer in the DERP map");
                }
            }

            _clients = clients;
            EnsureHomeLocked();
        }
    }

    /// <summary>
    /// Sets the home region (0 = none): a connection there is kept (reconnecting) and told NotePreferred(1); the
    /// others get NotePreferred(0). Any thread.
    /// </summary>
    public void SetHomeRegion(int regionId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(regionId);
        lock (_lock)
        {
            if (IsDisposed)
            {
                return;
            }

            Volatile.Write(ref _home, regionId);
            foreach (var client in _clients.Values)
            {
                client.SetPreferred(client.RegionId == regionId);
            }

            EnsureHomeLocked();
        }
    }

    /// <summary>
    /// Queues a packet to the peer with <paramref name="destinationNodeKey"/> via <paramref name="regionId"/>,
    /// connecting on demand. Dataplane loop; never blocks; copies the packet. False (counted) for an unknown region,
    /// a packet over 64 KiB, a bad key or a full queue.
    /// </summary>
    public bool TrySend(int regionId, ReadOnlySpan<byte> destinationNodeKey, ReadOnlySpan<byte> packet)
    {
        if (packet.Length > DerpProtocol.MaxPacketSize || destinationNodeKey.Length != DerpProtocol.KeySize)
        {
            _context.CountSendDrop();
            return false;
        }

        if (!_clients.TryGetValue(regionId, out var client) || client.IsClosed)
        {
            client = GetOrStart(regionId);
            if (client is null)
            {
                _context.CountSendDrop();
                return false;
            }
        }

        return client.TryEnqueue(destinationNodeKey, packet);
    }

    /// <summary>A snapshot of every region connection (any thread).</summary>
    public IReadOnlyList<DerpRegionStatus> GetStatus()
    {
        var clients = _clients;
        var ordered = new DerpRegionClient[clients.Count];
        clients.Values.CopyTo(ordered, 0);
        Array.Sort(ordered, static (a, b) => a.RegionId.CompareTo(b.RegionId));
        var result = new List<DerpRegionStatus>(ordered.Length);
        foreach (var client in ordered)
        {
            result.Add(client.GetStatus());
        }

        return result;
    }

    /// <summary>
    /// Pings the server of <paramref name="regionId"/> on its current connection and waits for the pong; false when
    /// not connected or no pong within <paramref name="timeout"/> (Go pings DERP this way after a network change).
    /// </summary>
    internal Task<bool> PingAsync(int regionId, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _clients.TryGetValue(regionId, out var client) ? client.PingAsync(timeout, cancellationToken) : Task.FromResult(false);

    /// <summary>Stops every connection, awaits every task and returns every queued buffer. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Task[] tasks;
        lock (_lock)
        {
            foreach (var client in _clients.Values)
            {
                client.Close("disposed");
            }

            tasks = [_maintenance, .. _closedTasks, .. _clients.Values.Select(client => client.Task)];
        }

        await _lifetime.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The tasks end by cancellation.
        }

        _lifetime.Dispose();
    }

    internal void RaisePeerGone(int regionId, WireGuardKey peer)
    {
        try
        {
            PeerGone?.Invoke(regionId, peer);
        }
        catch (Exception e)
        {
            DerpLog.HandlerFailed(_context.Logger, e);
        }
    }

    internal void RaiseConnected(int regionId)
    {
        try
        {
            Connected?.Invoke(regionId);
        }
        catch (Exception e)
        {
            DerpLog.HandlerFailed(_context.Logger, e);
        }
    }

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    // UnderlayAddress.Derp carries the region ID as a port.
    private static bool IsUsableRegionId(int regionId) => regionId is > 0 and <= ushort.MaxValue;

    private DerpRegionClient? GetOrStart(int regionId)
    {
        lock (_lock)
        {
            if (IsDisposed || !_regions.TryGetValue(regionId, out var region))
            {
                return null;
            }

            if (_clients.TryGetValue(regionId, out var existing) && !existing.IsClosed)
            {
                return existing;
            }

            var clients = new Dictionary<int, DerpRegionClient>(_clients);
            var client = StartLocked(clients, region);
            _clients = clients;
            return client;
        }
    }

    private void EnsureHomeLocked()
    {
        var home = Volatile.Read(ref _home);
        if (home == 0 || !_regions.TryGetValue(home, out var region) || (_clients.TryGetValue(home, out var existing) && !existing.IsClosed))
        {
            return;
        }

        var clients = new Dictionary<int, DerpRegionClient>(_clients);
        StartLocked(clients, region);
        _clients = clients;
    }

    private DerpRegionClient StartLocked(Dictionary<int, DerpRegionClient> clients, DERPRegion region)
    {
        if (clients.Remove(region.RegionID, out var old))
        {
            _closedTasks.RemoveAll(task => task.IsCompleted);
            _closedTasks.Add(old.Task);
        }

        var client = new DerpRegionClient(this, _context, region, region.RegionID == Volatile.Read(ref _home), _lifetime.Token);
        clients[region.RegionID] = client;
        client.Start();
        return client;
    }

    private void CloseLocked(Dictionary<int, DerpRegionClient> clients, DerpRegionClient client, string reason)
    {
        client.Close(reason);
        clients.Remove(client.RegionId);
        _closedTasks.RemoveAll(task => task.IsCompleted);
        _closedTasks.Add(client.Task);
    }

    private async Task MaintainAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(MaintenanceInterval, _context.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                Maintain();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    /// <summary>Closes idle non-home regions and aborts connections silent past the read timeout.</summary>
    internal void Maintain()
    {
        var now = _context.TimeProvider.GetTimestamp();
        lock (_lock)
        {
            if (IsDisposed)
            {
                return;
            }

            Dictionary<int, DerpRegionClient>? clients = null;
            foreach (var client in _clients.Values)
            {
                if (client.IsIdle(now, _context.IdleTimeout))
                {
                    clients ??= new Dictionary<int, DerpRegionClient>(_clients);
                    CloseLocked(clients, client, "idle");
                }
                else
                {
                    client.CheckReadTimeout(now, ReadTimeout);
                }
            }

            if (clients is not null)
            {
                _clients = clients;
            }
        }
    }
}
