using System.Net;
using System.Net.Sockets;
using TsNet.Dataplane;
using TsNet.Netstack;

namespace TsNet;

// The node's own identity on the tailnet: its addresses and its node key. Static mode takes both from the options
// and keeps them; a control server assigns addresses after start, may change them, and may rotate the node key,
// through the internal setters here. Each change goes through the loop that owns the state it touches.
public sealed partial class TailnetServer
{
    /// <summary>Serialises address and key changes with each other and with the start's catch-up.</summary>
    private readonly SemaphoreSlim _identityChange = new(1, 1);

    /// <summary>Current addresses; replaced whole, read-only to callers of <see cref="Addresses"/>, read with <see cref="Volatile"/>.</summary>
    private System.Collections.ObjectModel.ReadOnlyCollection<IPAddress> _addresses;

    // A WireGuardKey is one reference: a read never sees half of an old and half of a new key.
    private WireGuardKey _privateKey;
    private WireGuardKey _publicKey;

    /// <summary>
    /// Makes <paramref name="addresses"/> the node's overlay addresses (the base address of each entry), also while
    /// running: listeners (keyed by port) accept on every address the node has now or gets later; TCP connections on
    /// an address that goes away are reset on both sides. <see cref="Addresses"/> reports the new list once the
    /// netstack uses it.
    /// </summary>
    /// <exception cref="ArgumentException">IPv6 addresses with an MTU below 1280.</exception>
    /// <exception cref="ObjectDisposedException">The node was disposed.</exception>
    internal async ValueTask SetAddressesAsync(IReadOnlyList<IPNetwork> addresses, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var next = IPNetworkLists.BaseAddresses(addresses);
        if (_options.Mtu < NetstackOptions.MinimumIpv6Mtu && next.Any(a => a.AddressFamily == AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"IPv6 addresses need an MTU of at least {NetstackOptions.MinimumIpv6Mtu}.", nameof(addresses));
        }

        await _identityChange.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            NetstackLoop? netstack;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposeTask is not null, this);
                netstack = _netstack;
            }

            if (netstack is not null)
            {
                // Not cancellable once submitted, so Addresses never lags what the netstack uses.
                await netstack.SetAddressesAsync(next, CancellationToken.None).ConfigureAwait(false);
            }

            // Not started yet (or starting): the start builds the netstack from this, or catches up with it.
            Volatile.Write(ref _addresses, Array.AsReadOnly(next));
        }
        finally
        {
            _identityChange.Release();
        }
    }

    /// <summary>
    /// Makes <paramref name="privateKey"/> the node's key, also while running: every session is dropped and what
    /// depends on the static key is recomputed, so peers handshake again with the new key (they must know the new
    /// public key: update this node's entry on them). <see cref="PublicKey"/> reports the new key once the WireGuard
    /// core uses it.
    /// </summary>
    /// <exception cref="ArgumentException">An empty key, or one whose public key is a peer's.</exception>
    /// <exception cref="ObjectDisposedException">The node was disposed.</exception>
    internal async ValueTask SetPrivateKeyAsync(WireGuardKey privateKey, CancellationToken cancellationToken = default)
    {
        if (privateKey.IsEmpty)
        {
            throw new ArgumentException("The private key is empty.", nameof(privateKey));
        }

        var publicKey = privateKey.PublicKey;
        if (_registry.Current.TryGet(publicKey, out _))
        {
            throw new ArgumentException("The key's public key is a peer's.", nameof(privateKey));
        }

        await _identityChange.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            DataplaneLoop? dataplane;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposeTask is not null, this);
                dataplane = _dataplane;
            }

            if (dataplane is not null)
            {
                await ApplyPrivateKeyAsync(dataplane, privateKey).ConfigureAwait(false);
            }

            _privateKey = privateKey;
            _publicKey = publicKey;
        }
        finally
        {
            _identityChange.Release();
        }
    }

    /// <summary>
    /// At start, once the loops are published: applies an address or key change that arrived while the loops were
    /// being built from the values they were given.
    /// </summary>
    private async Task CatchUpIdentityAsync(DataplaneLoop dataplane, NetstackLoop netstack, WireGuardKey builtWithKey, IReadOnlyList<IPAddress> builtWithAddresses, CancellationToken cancellationToken)
    {
        await _identityChange.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_privateKey != builtWithKey)
            {
                await ApplyPrivateKeyAsync(dataplane, _privateKey).ConfigureAwait(false);
            }

            var addresses = Volatile.Read(ref _addresses);
            if (!ReferenceEquals(addresses, builtWithAddresses))
            {
                await netstack.SetAddressesAsync(addresses, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _identityChange.Release();
        }
    }

    /// <remarks>
    /// Not cancellable once submitted: the loop applies it promptly, and a caller that stopped waiting would leave
    /// <see cref="PublicKey"/> behind the core. The loop wipes its copy of the key after use.
    /// </remarks>
    private Task<bool> ApplyPrivateKeyAsync(DataplaneLoop dataplane, WireGuardKey privateKey)
    {
        var bytes = privateKey.Bytes.ToArray();
        return OnDataplaneAsync(dataplane, (loop, now) =>
        {
            try
            {
                loop.Core.SetPrivateKey(bytes, now, loop);
                ChangePathNodeKey(loop, privateKey);
            }
            finally
            {
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(bytes);
            }

            return true;
        }, CancellationToken.None);
    }
}
