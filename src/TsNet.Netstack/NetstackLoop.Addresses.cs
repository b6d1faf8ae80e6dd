using System.Net;

namespace TsNet.Netstack;

// Changing the node's addresses at run time, through the loop so the core is never touched from another thread.
internal sealed partial class NetstackLoop
{
    /// <summary>
    /// Makes <paramref name="addresses"/> the node's addresses (see <see cref="NetstackCore.SetAddresses"/>);
    /// completes once the core uses them. Resets of connections on removed addresses leave with the loop's next flush.
    /// </summary>
    /// <returns>The number of connections reset.</returns>
    /// <exception cref="ArgumentException">An entry is not an IP address, or IPv6 with an MTU below 1280.</exception>
    public async ValueTask<int> SetAddressesAsync(IReadOnlyList<IPAddress> addresses, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        IPAddress[] copy = [.. addresses];
        var command = new TcpCommand<int>(this, (loop, _) => loop._core.SetAddresses(copy));
        return await SubmitAsync(command, cancellationToken).ConfigureAwait(false);
    }
}
