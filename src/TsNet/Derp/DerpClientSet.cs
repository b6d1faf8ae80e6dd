using TsNet.Control.Protocol;

namespace TsNet.Derp;

/// <summary>
/// The node's DERP connections, one per region: a kept connection to the home region and on-demand ones to the
/// regions peers live in.
/// </summary>
internal sealed class DerpClientSet : IAsyncDisposable
{
    /// <summary>Creates the set; nothing connects until a map and a home region or a send asks for it.</summary>
    public DerpClientSet(DerpClientSetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
    }

    /// <summary>Raised on a reader task when the server reports a peer gone: (region, peer node key).</summary>
    public event Action<int, WireGuardKey>? PeerGone { add { } remove { } }

    /// <summary>Raised when a region (re)connected.</summary>
    public event Action<int>? Connected { add { } remove { } }

    /// <summary>The home region, 0 = none.</summary>
    public int HomeRegion => throw new NotImplementedException();

    /// <summary>Packets refused or lost on sending.</summary>
    public long SendDrops => throw new NotImplementedException();

    /// <summary>Received packets dropped (no buffer fits, full inbound queue).</summary>
    public long InboundDrops => throw new NotImplementedException();

    /// <summary>Every task the set runs; all complete after <see cref="DisposeAsync"/>.</summary>
    public IEnumerable<Task> Tasks => throw new NotImplementedException();

    /// <summary>Replaces the DERP map; connections to regions no longer in it close.</summary>
    public void SetDerpMap(DERPMap? map) => throw new NotImplementedException();

    /// <summary>Sets the home region (0 = none).</summary>
    public void SetHomeRegion(int regionId) => throw new NotImplementedException();

    /// <summary>Queues a packet to a peer via a region; false when it cannot.</summary>
    public bool TrySend(int regionId, ReadOnlySpan<byte> destinationNodeKey, ReadOnlySpan<byte> packet) =>
        throw new NotImplementedException();

    /// <summary>A snapshot of every region connection.</summary>
    public IReadOnlyList<DerpRegionStatus> GetStatus() => throw new NotImplementedException();

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => throw new NotImplementedException();
}
