using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TsNet.Control.Netmap;
using TsNet.Control.Protocol;
using TsNet.Dataplane;
using TsNet.Filter;
using TsNet.Registry;

namespace TsNet;

// A netmap applied to the node, in an order that never lets a packet through that the new map forbids: self
// addresses and name, then the packet filter, then the peers (registry first, then the dataplane in short turns).
// The session waits for the returned task (back-pressure: it reads no further map frames meanwhile).
public sealed partial class TailnetServer
{
    /// <summary>
    /// How long one dataplane turn may spend applying peers: a 10 000-peer netmap is spread over many short turns, so
    /// packets keep flowing between them (measured on time, because a new peer's X25519 costs far more than an update).
    /// </summary>
    private static readonly TimeSpan s_dataplaneTurnBudget = TimeSpan.FromMilliseconds(2);

    /// <summary>Serialises netmap application and logout (the session sends one map at a time; logout may race it).</summary>
    private readonly SemaphoreSlim _netmapGate = new(1, 1);

    /// <summary>The netmap's tailnet domain (peers answer to <c>name.&lt;domain&gt;</c>); null in static mode.</summary>
    private string? _tailnetDomain;

    /// <summary>The registry snapshot the dataplane's peers match (control mode starts with none). Under <see cref="_netmapGate"/>.</summary>
    private PeerRegistrySnapshot _dataplanePeers = PeerRegistrySnapshot.Empty;

    private DateTimeOffset? _selfKeyExpiry;
    private ITimer? _selfExpiryTimer;

    /// <summary>True when the self node's key has expired by the local clock. Under <see cref="_controlGate"/>.</summary>
    private bool SelfKeyExpired => _selfKeyExpiry is { } expiry && expiry <= _options.TimeProvider.GetUtcNow();

    private async Task ApplyNetmapAsync(NetmapUpdate update, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        var token = linked.Token;
        await _netmapGate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            var (dataplane, _) = Started();
            var netmap = update.Netmap;

            // Self first: listeners already cover new addresses, and connections on removed ones are reset.
            var selfAddresses = netmap.SelfAddresses;
            if (!selfAddresses.SequenceEqual(Addresses))
            {
                var prefixes = new IPNetwork[selfAddresses.Count];
                for (int i = 0; i < prefixes.Length; i++)
                {
                    prefixes[i] = HostPrefix(selfAddresses[i]);
                }

                await SetAddressesAsync(prefixes, token).ConfigureAwait(false);
            }

            SetDnsName(netmap.SelfNames.Full);
            Volatile.Write(ref _tailnetDomain, netmap.Domain);

            if (update.FilterChanged)
            {
                await SetPacketFilterAsync(ParseFilter(netmap.PacketFilter), token).ConfigureAwait(false);
            }

            if (update.DerpMapChanged)
            {
                await ApplyDerpMapAsync(dataplane, netmap.DerpMap, token).ConfigureAwait(false);
            }

            update.ApplyTo(_registry);
            await CatchUpDataplanePeersAsync(dataplane, token).ConfigureAwait(false);

            lock (_controlGate)
            {
                ScheduleSelfExpiry(SelfKeyExpiry(netmap.Self));
                EnterRunningOrExpired();
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                LogNetmapApplied(_logger, update.IsFull, _registry.Current.Count, update.SkippedPeers, string.Join(",", selfAddresses));
            }
        }
        finally
        {
            _netmapGate.Release();
        }
    }

    /// <summary>After logout: no peers, no addresses, no name.</summary>
    private async Task ClearNetmapAsync(CancellationToken cancellationToken)
    {
        await _netmapGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (dataplane, _) = Started();
            _registry.ReplaceAll([]);
            await CatchUpDataplanePeersAsync(dataplane, cancellationToken).ConfigureAwait(false);
            await SetAddressesAsync([], cancellationToken).ConfigureAwait(false);
            SetDnsName(null);
        }
        finally
        {
            _netmapGate.Release();
        }
    }

    /// <summary>
    /// Under <see cref="_netmapGate"/>: brings the dataplane from the registry snapshot it was last brought to up to the
    /// current one. Diffing from what was applied (not from the snapshot before this map) means an application cut
    /// short (cancelled) is completed by the next one.
    /// </summary>
    private async Task CatchUpDataplanePeersAsync(DataplaneLoop dataplane, CancellationToken cancellationToken)
    {
        var target = _registry.Current;
        if (!ReferenceEquals(target, _dataplanePeers))
        {
            await ApplyRegistryChangeAsync(dataplane, _dataplanePeers, target, cancellationToken).ConfigureAwait(false);
            _dataplanePeers = target;
        }
    }

    /// <summary>
    /// Brings the dataplane from <paramref name="before"/> to <paramref name="after"/>: peers that left are dropped,
    /// new and changed entries (a new instance) are applied as a static peer update is (<see cref="ApplyPeer"/>), so
    /// sessions of unchanged peers continue. Work goes to the loop in short turns (<see cref="RunInDataplaneTurnsAsync"/>).
    /// </summary>
    private async Task ApplyRegistryChangeAsync(DataplaneLoop dataplane, PeerRegistrySnapshot before, PeerRegistrySnapshot after, CancellationToken cancellationToken)
    {
        var removed = new List<WireGuardKey>();
        foreach (var entry in before.Peers)
        {
            if (!after.TryGet(entry.NodeKey, out _))
            {
                removed.Add(entry.NodeKey);
            }
        }

        var changed = new List<PeerSettings>();
        foreach (var entry in after.Peers)
        {
            if (!before.TryGet(entry.NodeKey, out var previous) || !ReferenceEquals(previous, entry))
            {
                changed.Add(await ResolvePeerAsync(entry, cancellationToken).ConfigureAwait(false));
            }
        }

        await RunInDataplaneTurnsAsync(dataplane, removed, (loop, key, now) => UnapplyPeer(loop, key, now), cancellationToken).ConfigureAwait(false);
        await RunInDataplaneTurnsAsync(dataplane, changed, (loop, settings, now) =>
        {
            // A later registry change applies itself (same rule as a static peer update).
            if (settings.Entry is { } entry && _registry.Current.TryGet(entry.NodeKey, out var latest) && ReferenceEquals(latest, entry))
            {
                ApplyPeer(loop, settings, now);
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="apply"/> for each item on the dataplane's task, in turns of about
    /// <see cref="s_dataplaneTurnBudget"/> each (at least one item per turn): adding a peer costs an X25519 on the
    /// loop, so a large netmap in one turn would hold packets up for a noticeable time.
    /// </summary>
    private static async Task RunInDataplaneTurnsAsync<T>(
        DataplaneLoop dataplane, IReadOnlyList<T> items, Action<DataplaneLoop, T, long> apply, CancellationToken cancellationToken)
    {
        var next = 0;
        while (next < items.Count)
        {
            var from = next;
            next = await OnDataplaneAsync(dataplane, (loop, now) =>
            {
                var started = Stopwatch.GetTimestamp();
                var i = from;
                do
                {
                    apply(loop, items[i], now);
                    i++;
                }
                while (i < items.Count && Stopwatch.GetElapsedTime(started) < s_dataplaneTurnBudget);

                return i;
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The netmap's rules; none yet, or rules that do not parse, deny everything (as Tailscale does).</summary>
    private PacketFilter ParseFilter(JsonElement? rules)
    {
        if (rules is not { } json)
        {
            return PacketFilter.DenyAll;
        }

        try
        {
            return PacketFilter.Parse(json);
        }
        catch (FormatException ex)
        {
            LogFilterUnparsable(_logger, ex.Message);
            return PacketFilter.DenyAll;
        }
    }

    private static IPNetwork HostPrefix(IPAddress address) =>
        new(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);

    private static DateTimeOffset? SelfKeyExpiry(Node? self) =>
        self?.KeyExpiry is { } expiry && !GoTimeJsonConverter.IsZero(expiry) ? expiry : null;

    /// <summary>
    /// Under <see cref="_controlGate"/>: arms a timer on the node's clock for the instant the self node key expires
    /// (the server's clock is not trusted for this); null disarms.
    /// </summary>
    private void ScheduleSelfExpiry(DateTimeOffset? expiry)
    {
        if (expiry == _selfKeyExpiry && (_selfExpiryTimer is not null || expiry is null))
        {
            return;
        }

        _selfKeyExpiry = expiry;
        _selfExpiryTimer?.Dispose();
        _selfExpiryTimer = null;
        if (expiry is { } at && at - _options.TimeProvider.GetUtcNow() is var due && due > TimeSpan.Zero)
        {
            _selfExpiryTimer = _options.TimeProvider.CreateTimer(_ => OnSelfKeyExpiryDue(), null, due, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>On a timer thread: the self key's expiry instant came; a Running node becomes Expired.</summary>
    private void OnSelfKeyExpiryDue()
    {
        lock (_controlGate)
        {
            if (_selfKeyExpiry is not { } expiry || _selfExpiryTimer is null)
            {
                return; // disarmed meanwhile
            }

            var early = expiry - _options.TimeProvider.GetUtcNow();
            if (early > TimeSpan.Zero)
            {
                _selfExpiryTimer.Change(early, Timeout.InfiniteTimeSpan);
                return;
            }

            if (State == TailnetState.Running)
            {
                LeaveRunning(TailnetState.Expired);
                LogSelfKeyExpired(_logger, expiry);
            }
        }
    }

    [LoggerMessage(EventId = 1419, Level = LogLevel.Debug, Message = "Netmap applied (full {Full}): {Peers} peers, {Skipped} left out, self addresses {Addresses}")]
    private static partial void LogNetmapApplied(ILogger logger, bool full, int peers, int skipped, string addresses);

    [LoggerMessage(EventId = 1420, Level = LogLevel.Error, Message = "The netmap's packet filter does not parse ({Reason}); every inbound flow is denied until a valid one arrives")]
    private static partial void LogFilterUnparsable(ILogger logger, string reason);

    [LoggerMessage(EventId = 1421, Level = LogLevel.Warning, Message = "The node key expired at {Expiry} (local clock): peers will not talk to this node until it logs in again")]
    private static partial void LogSelfKeyExpired(ILogger logger, DateTimeOffset expiry);
}
