using Microsoft.Extensions.Logging;
using TsNet.Services.Publishing;

namespace TsNet;

// Port publishing: host ports relayed into the tailnet and overlay ports relayed to the host (tsnet up --forward/--publish).
public sealed partial class TailnetServer
{
    /// <summary>
    /// Publishes <paramref name="mappings"/>: for <see cref="PortMappingDirection.HostToTailnet"/>, a host TCP or UDP
    /// socket whose connections or datagrams are relayed to an overlay <c>host:port</c>; for
    /// <see cref="PortMappingDirection.TailnetToHost"/>, an overlay port whose traffic is relayed to a host address.
    /// Every listening socket is bound before any traffic is relayed; when one cannot be bound (or its target names no
    /// peer), the ones bound before it are closed again and a <see cref="PortPublishingException"/> names the mapping.
    /// TCP connections are relayed byte for byte with half-close (a FIN goes through, the other direction keeps
    /// flowing); a target that cannot be reached, or a reset on either side, resets the other side. UDP keeps a session
    /// per remote sender, with its own socket on the other side, so answers return to that sender; sessions end after
    /// <see cref="TailnetLimits.PublishedUdpSessionIdle"/> (default 60 s) without a datagram either way, measured on
    /// <see cref="TailnetServerOptions.TimeProvider"/>, and at most <see cref="TailnetLimits.PublishedUdpMaxSessions"/>
    /// (default 1024) exist per mapping: datagrams of further senders are dropped and counted in
    /// <see cref="PublishedPort.DroppedDatagrams"/>.
    /// </summary>
    /// <param name="mappings">At least one mapping; see <see cref="PortMapping.ParseForward"/> and <see cref="PortMapping.ParsePublish"/> for the CLI syntax.</param>
    /// <param name="cancellationToken">Cancels the binding; a cancelled call leaves nothing bound.</param>
    /// <returns>The publication; dispose it to stop publishing (disposing the node stops it too).</returns>
    /// <exception cref="ArgumentException"><paramref name="mappings"/> is empty or holds null.</exception>
    /// <exception cref="PortPublishingException">A mapping could not be bound; nothing stays bound.</exception>
    /// <exception cref="InvalidOperationException">The node is not started.</exception>
    /// <exception cref="ObjectDisposedException">The node is disposed.</exception>
    public ValueTask<PortPublication> PublishAsync(IEnumerable<PortMapping> mappings, CancellationToken cancellationToken = default) =>
        PublishWithClockAsync(mappings, _options.TimeProvider, cancellationToken);

    /// <summary><see cref="PublishAsync(IEnumerable{PortMapping}, CancellationToken)"/> with its own clock for UDP idle expiry (tests).</summary>
    internal async ValueTask<PortPublication> PublishWithClockAsync(IEnumerable<PortMapping> mappings, TimeProvider sessionClock, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mappings);
        var list = mappings.ToArray();
        if (list.Length == 0)
        {
            throw new ArgumentException("Give at least one port mapping.", nameof(mappings));
        }

        if (list.Any(m => m is null))
        {
            throw new ArgumentException("A port mapping is null.", nameof(mappings));
        }

        _ = Started();
        var stopping = CancellationTokenSource.CreateLinkedTokenSource(_disposing.Token);
        var context = new PublishingContext(
            this,
            sessionClock,
            _options.Limits.PublishedUdpSessionIdle,
            _options.Limits.PublishedUdpMaxSessions,
            _options.LoggerFactory.CreateLogger("TsNet.Publishing"),
            stopping.Token);
        var relays = new List<PortRelay>(list.Length);
        try
        {
            foreach (var mapping in list)
            {
                var relay = PortRelay.Create(mapping, context);
                try
                {
                    await relay.BindAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    await relay.DisposeAsync().ConfigureAwait(false);
                    if (ex is OperationCanceledException)
                    {
                        throw;
                    }

                    PublishingLog.BindFailed(context.Logger, mapping, relays.Count, ex);
                    throw new PortPublishingException(mapping, ex);
                }

                relays.Add(relay);
            }
        }
        catch
        {
            foreach (var relay in relays)
            {
                await relay.DisposeAsync().ConfigureAwait(false);
            }

            stopping.Dispose();
            throw;
        }

        var publication = new PortPublication(relays.ToArray(), context, stopping);
        publication.Start();
        publication.DisposeWith(_disposing.Token, _background.Track);
        return publication;
    }
}
