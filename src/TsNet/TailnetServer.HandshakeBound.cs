using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TsNet;

// The handshake bound of a dial: a peer with which no WireGuard handshake completes fails the dial within a bound
// and names what to check, instead of leaving TCP to retry its SYN for 127 s.
public sealed partial class TailnetServer
{
    /// <summary>
    /// How long a dial waits for a WireGuard session with the peer that routes its address: 10 s, which covers a few
    /// handshake retries (one every 5 s) and leaves room for a first DERP connection, yet stays well under the
    /// issue's 15 s ceiling and TCP's 127 s of SYN retries.
    /// </summary>
    internal static readonly TimeSpan DefaultDialHandshakeWait = TimeSpan.FromSeconds(10);

    /// <summary>The handshake bound of dials (<see cref="DefaultDialHandshakeWait"/>); tests shorten it.</summary>
    internal TimeSpan DialHandshakeWait { get; set; } = DefaultDialHandshakeWait;

    /// <summary>
    /// Runs <paramref name="dial"/>; when it has not completed after <see cref="DialHandshakeWait"/> and the peer that
    /// routes <paramref name="address"/> still has no session, cancels it and throws the no-handshake error. A peer
    /// with a session keeps the dial's own timeout (the host may just be slow). The node's own addresses are exempt.
    /// </summary>
    /// <exception cref="SocketException"><see cref="SocketError.HostUnreachable"/>: no handshake with the peer in time.</exception>
    private async ValueTask<TailnetConnection> DialWithHandshakeBoundAsync(
        IPAddress address, Func<CancellationToken, ValueTask<TailnetConnection>> dial, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _addresses).Contains(address) || _registry.Current.FindByAddress(address) is not { } peer)
        {
            return await dial(cancellationToken).ConfigureAwait(false);
        }

        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stopWaiting = new CancellationTokenSource();
        var dialing = dial(giveUp.Token).AsTask();
        var waited = Task.Delay(DialHandshakeWait, _options.TimeProvider, stopWaiting.Token);
        if (await Task.WhenAny(dialing, waited).ConfigureAwait(false) == dialing)
        {
            await stopWaiting.CancelAsync().ConfigureAwait(false);
            return await dialing.ConfigureAwait(false);
        }

        var (established, endpoint) = await PeerSessionAsync(peer.NodeKey, cancellationToken).ConfigureAwait(false);
        if (established || dialing.IsCompletedSuccessfully)
        {
            return await dialing.ConfigureAwait(false);
        }

        await giveUp.CancelAsync().ConfigureAwait(false);
        try
        {
            // Raced the cancel and won: nobody will use it.
            await (await dialing.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        throw NoHandshakeException(peer, endpoint, DialHandshakeWait);
    }

    /// <summary>A ping whose timeout, when the peer never completed a handshake, says so instead of a bare timeout.</summary>
    private async ValueTask<TimeSpan> PingExplainingTimeoutAsync(
        Netstack.NetstackLoop netstack, IPAddress address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await netstack.PingAsync(address, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex) when (!Volatile.Read(ref _addresses).Contains(address)
            && _registry.Current.FindByAddress(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address) is { } peer)
        {
            var (established, endpoint) = await PeerSessionAsync(peer.NodeKey, cancellationToken).ConfigureAwait(false);
            if (established)
            {
                throw;
            }

            throw new TimeoutException(NoHandshakeException(peer, endpoint, timeout).Message, ex);
        }
    }

    /// <summary>
    /// Why a dial to <paramref name="address"/> that gave up after <paramref name="waited"/> failed, when the cause is
    /// the peer: the no-handshake error if the peer that routes the address has no session. Null for the node's own
    /// addresses, unrouted ones, or a peer with a session (then the host behind it did not answer in time). Lets a
    /// caller with its own, possibly shorter, deadline (the SOCKS5 proxy) report the same failure as the handshake bound.
    /// </summary>
    internal async ValueTask<SocketException?> ExplainDialTimeoutAsync(IPAddress address, TimeSpan waited, CancellationToken cancellationToken)
    {
        address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        if (Volatile.Read(ref _addresses).Contains(address) || _registry.Current.FindByAddress(address) is not { } peer)
        {
            return null;
        }

        var (established, endpoint) = await PeerSessionAsync(peer.NodeKey, cancellationToken).ConfigureAwait(false);
        return established ? null : NoHandshakeException(peer, endpoint, waited);
    }

    /// <summary>Whether the dataplane has a usable session with the peer, and the endpoint it sends to.</summary>
    private async Task<(bool Established, IPEndPoint? Endpoint)> PeerSessionAsync(WireGuardKey key, CancellationToken cancellationToken)
    {
        return await InspectAsync(
            core =>
            {
                // Runs once per failing dial, not per packet: a scan of the peers is fine here.
                foreach (var p in core.Peers)
                {
                    if (new WireGuardKey(p.PublicKey).Equals(key))
                    {
                        return (p.SessionState == "established", p.Endpoint.IsSet && !p.Endpoint.IsPeerPath ? p.Endpoint.ToIPEndPoint() : null);
                    }
                }

                return (false, (IPEndPoint?)null);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The error of a dial whose peer never completed a handshake; built only when a dial fails.</summary>
    private SocketException NoHandshakeException(Registry.RegistryPeer peer, IPEndPoint? endpoint, TimeSpan waited) => new(
        (int)SocketError.HostUnreachable,
        string.Format(
            CultureInfo.InvariantCulture,
            "no WireGuard handshake with peer {0} (key {1}, endpoint {2}) within {3:0.#} s: does the peer know this node's public key ({4}) and list this node's address in its AllowedIPs? is its endpoint reachable over UDP?",
            peer.Name is null ? "(unnamed)" : "'" + peer.Name + "'",
            peer.NodeKey,
            endpoint?.ToString() ?? (peer.Source == Registry.PeerSource.Netmap
                ? $"DERP region {peer.HomeDerpRegion}, direct {(peer.Endpoints.Count == 0 ? "none" : string.Join(" ", peer.Endpoints))}"
                : "none"),
            waited.TotalSeconds,
            PublicKey));
}
