using TsNet.Underlay;
using TsNet.WireGuard.Relay;

namespace TsNet.Dataplane;

// Relay paths as the dataplane's commands see them. The bind handshake and its timers live in the sans-IO
// RelayClientCore, the Geneve framing in the RelayUnderlay layer the loop sends and receives through; the WireGuard
// core sees "relay address + VNI" as the peer's endpoint.
internal sealed partial class DataplaneLoop
{
    /// <summary>Binds per handshake before a path counts as lost (see <see cref="RelayClientCore.BindsPerHandshake"/>).</summary>
    internal const int BindsPerHandshake = RelayClientCore.BindsPerHandshake;

    /// <summary>Interval between Binds of one handshake while no Challenge has come back (1 s; tests shorten it).</summary>
    public TimeSpan RelayBindRetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The node's disco private key (32 bytes); relay paths need it for the bind handshake.</summary>
    public byte[] DiscoPrivateKey { get; init; } = [];

    /// <summary>The configured relay paths (loop task only; tests read them through <see cref="InvokeAsync"/>).</summary>
    internal IReadOnlyCollection<RelayClientPath> RelayPaths => _underlay?.Relay.Paths ?? [];

    /// <summary>
    /// Sets (or with null, removes) the relay path of peer <paramref name="peerPublicKey"/>. An unchanged path keeps
    /// its binding; a new one starts its bind handshake now. Loop task, after <see cref="Start"/>.
    /// </summary>
    public void ConfigureRelayPath(byte[] peerPublicKey, RelayPathSettings? settings, long now)
    {
        var relay = Started().Relay;
        if (settings is null)
        {
            relay.RemovePath(peerPublicKey);
            return;
        }

        relay.ConfigurePath(peerPublicKey, settings.Server, settings.ServerKey, settings.Vni, settings.PeerKey, now);
        _wake.Set();
    }

    /// <summary>Test hook: every relay path starts a new bind handshake (new generation) now, keeping its current binding.</summary>
    internal void RestartRelayHandshakes(long now) => Started().Relay.RestartHandshakes(now);

    /// <summary>Relay drop and failure counters for the status snapshot (loop task only).</summary>
    internal void AddRelayCounters(IDictionary<string, long> drops) => _underlay?.AddCounters(drops);

    private RelayUnderlay Started() => _underlay ?? throw new InvalidOperationException("The dataplane is not started.");
}
