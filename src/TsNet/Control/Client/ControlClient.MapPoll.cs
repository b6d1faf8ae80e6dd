using System.Net;
using TsNet.Control.Netmap;
using TsNet.Control.Protocol;
using TsNet.Control.Session;

namespace TsNet.Control.Client;

// The map poll of ControlClient (protocol doc §9): one stream, its watchdog, key expiry and lite updates.
internal sealed partial class ControlClient
{
    /// <summary>One map stream until it fails (always by an exception: a healthy stream never ends on its own).</summary>
    private async Task PollAsync(IControlObserver observer, IControlChannel channel, CancellationToken cancellationToken)
    {
        IReadOnlyList<IPEndPoint> endpoints;
        lock (_lock)
        {
            endpoints = _endpoints;
        }

        var homeDerp = Volatile.Read(ref _homeDerp);
        var request = ControlRequests.StreamingMap(_context, State, endpoints, homeDerp, Volatile.Read(ref _derpLatencies));
        using var streamCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ended = (int)StreamEnd.None;
        void End(StreamEnd why)
        {
            // The first reason wins (a manual clock can fire both timers at once).
            Interlocked.CompareExchange(ref ended, (int)why, (int)StreamEnd.None);
            try
            {
                streamCts.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        using var watchdog = _time.CreateTimer(_ => End(StreamEnd.Stalled), null, StallTimeout, Timeout.InfiniteTimeSpan);
        var expiry = new KeyExpiryTimer(_time, () => End(StreamEnd.KeyExpired));
        Task lite = Task.CompletedTask;
        try
        {
            var map = await channel.OpenMapAsync(request, streamCts.Token).ConfigureAwait(false);
            await using (map.ConfigureAwait(false))
            {
                _sentEndpoints = endpoints;
                Volatile.Write(ref _sentHomeDerp, homeDerp);
                lite = LiteUpdatesAsync(channel, streamCts.Token);
                var folder = new NetmapFolder(_time, FullMapsOnly, _context.AcceptRoutes);
                while (true)
                {
                    var response = await map.ReadAsync(streamCts.Token).ConfigureAwait(false)
                        ?? throw new IOException("The control server ended the map stream.");
                    watchdog.Change(StallTimeout, Timeout.InfiniteTimeSpan);
                    if (CarriesDeltas(response))
                    {
                        folder.ExpectDeltas();
                    }

                    var update = folder.Apply(response);
                    if (update is null)
                    {
                        continue;
                    }

                    if (!_streamUp)
                    {
                        _streamUp = true;
                        _backoff.Reset();
                        ControlClientLog.StreamUp(_logger, _context.ControlUrl);
                        observer.OnControlConnectionChanged(true, null);
                    }

                    // The node sees the map that says its key expired (it shows Expired) before the key is renewed.
                    // Time the node takes to apply it is not the server's silence: the watchdog pauses meanwhile.
                    watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    await NotifyNetmapAsync(observer, update, cancellationToken).ConfigureAwait(false);
                    watchdog.Change(StallTimeout, Timeout.InfiniteTimeSpan);
                    if (update.SelfChanged && folder.Current?.Self is { } self)
                    {
                        if (self.Expired || expiry.Arm(self.KeyExpiry))
                        {
                            throw new NodeKeyExpiredException();
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException e) when (Volatile.Read(ref ended) != (int)StreamEnd.None && !cancellationToken.IsCancellationRequested)
        {
            if (Volatile.Read(ref ended) == (int)StreamEnd.KeyExpired)
            {
                throw new NodeKeyExpiredException();
            }

            throw new TimeoutException($"No map message for {StallTimeout.TotalSeconds:0} s: the stream stalled.", e);
        }
        finally
        {
            watchdog.Dispose();
            expiry.Dispose();
            await streamCts.CancelAsync().ConfigureAwait(false);
            await lite.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Sends a lite update whenever the endpoints differ from what the server last got, while the stream lives.</summary>
    private async Task LiteUpdatesAsync(IControlChannel channel, CancellationToken cancellationToken)
    {
        while (await _endpointsChanged.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (_endpointsChanged.Reader.TryRead(out _))
            {
            }

            IReadOnlyList<IPEndPoint> endpoints;
            lock (_lock)
            {
                endpoints = _endpoints;
            }

            var homeDerp = Volatile.Read(ref _homeDerp);
            if (_sentEndpoints is { } sent && sent.SequenceEqual(endpoints) && homeDerp == Volatile.Read(ref _sentHomeDerp))
            {
                continue;
            }

            try
            {
                using var bound = Bound(LiteUpdateTimeout, cancellationToken);
                await channel.SendLiteUpdateAsync(ControlRequests.LiteUpdate(_context, State, endpoints, homeDerp, Volatile.Read(ref _derpLatencies)), bound.Token).ConfigureAwait(false);
                _sentEndpoints = endpoints;
                Volatile.Write(ref _sentHomeDerp, homeDerp);
                ControlClientLog.LiteUpdateSent(_logger, endpoints.Count);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsTransient(e))
            {
                ControlClientLog.LiteUpdateFailed(_logger, e);
            }
        }
    }

    private static async ValueTask NotifyNetmapAsync(IControlObserver observer, NetmapUpdate update, CancellationToken cancellationToken)
    {
        try
        {
            await observer.OnNetmapAsync(update, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SessionFaultException("The node failed to apply a netmap.", e);
        }
    }

    /// <summary>A message only a delta-sending server sends: its later maps may carry a self node without <c>Peers</c>.</summary>
    private static bool CarriesDeltas(MapResponse response) =>
        response.PeersChanged is not null || response.PeersRemoved is not null || response.PeersChangedPatch is not null
        || response.OnlineChange is not null || response.PeerSeenChange is not null;

    /// <summary>Why the session ended a stream itself.</summary>
    private enum StreamEnd
    {
        None,
        Stalled,
        KeyExpired,
    }
}
