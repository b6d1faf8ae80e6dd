using System.Net;
using System.Net.Sockets;
using TsNet.Control.Protocol;

namespace TsNet.Derp;

/// <summary>
/// Opens the TCP connection to one DERP node (derp.md §1): its <c>IPv4</c>/<c>IPv6</c> literals, or the resolved
/// <c>HostName</c> for a family left empty; a family set to a non-IP string (<c>"none"</c>) is not dialed. The
/// candidate addresses are dialed in parallel and the first to connect wins.
/// </summary>
internal static class DerpNodeDialer
{
    /// <summary>The TLS port when the node names none.</summary>
    public const int DefaultPort = 443;

    /// <summary>The node's DERP port: <c>DERPPort</c>, else 443.</summary>
    public static int PortOf(DERPNode node) => node.DERPPort > 0 ? node.DERPPort : DefaultPort;

    /// <summary>Connects to the node; throws when no address is usable or none connects before cancellation.</summary>
    public static async Task<Socket> ConnectAsync(DERPNode node, CancellationToken cancellationToken)
    {
        var addresses = await AddressesOfAsync(node, cancellationToken).ConfigureAwait(false);
        if (addresses.Count == 0)
        {
            throw new DerpProtocolException($"DERP node {node.Name} has no usable address.");
        }

        var port = PortOf(node);
        using var race = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var attempts = addresses.Select(address => DialAsync(new IPEndPoint(address, port), race.Token)).ToList();
        Exception? last = null;
        Socket? winner = null;
        while (attempts.Count > 0)
        {
            var done = await Task.WhenAny(attempts).ConfigureAwait(false);
            attempts.Remove(done);
            try
            {
                var socket = await done.ConfigureAwait(false);
                if (winner is null)
                {
                    winner = socket;
                    await race.CancelAsync().ConfigureAwait(false);
                }
                else
                {
                    socket.Dispose();
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                last ??= e;
            }
        }

        if (winner is not null)
        {
            return winner;
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw last ?? new DerpProtocolException($"DERP node {node.Name} did not connect.");
    }

    private static async Task<Socket> DialAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<List<IPAddress>> AddressesOfAsync(DERPNode node, CancellationToken cancellationToken)
    {
        var result = new List<IPAddress>(2);
        var resolveV4 = AddLiteralOrNeedsDns(node.IPv4, AddressFamily.InterNetwork, result);
        var resolveV6 = AddLiteralOrNeedsDns(node.IPv6, AddressFamily.InterNetworkV6, result);
        if ((resolveV4 || resolveV6) && !string.IsNullOrEmpty(node.HostName))
        {
            IPAddress[] resolved;
            try
            {
                resolved = await Dns.GetHostAddressesAsync(node.HostName, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                resolved = [];
            }

            foreach (var address in resolved)
            {
                if ((address.AddressFamily == AddressFamily.InterNetwork && resolveV4)
                    || (address.AddressFamily == AddressFamily.InterNetworkV6 && resolveV6))
                {
                    result.Add(address);
                }
            }
        }

        return result;
    }

    /// <summary>Adds a literal of the family; true when the field is empty (resolve the host name for that family).</summary>
    private static bool AddLiteralOrNeedsDns(string? field, AddressFamily family, List<IPAddress> addresses)
    {
        if (string.IsNullOrEmpty(field))
        {
            return true;
        }

        if (IPAddress.TryParse(field, out var address) && address.AddressFamily == family)
        {
            addresses.Add(address);
        }

        // Any other text ("none" by convention) disables the family.
        return false;
    }
}
