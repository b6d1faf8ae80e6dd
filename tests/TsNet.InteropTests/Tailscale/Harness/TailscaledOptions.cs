namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>How a <see cref="Tailscaled"/> node runs.</summary>
public sealed class TailscaledOptions
{
    /// <summary>Short name: the node's subdirectory of the work directory and its log prefix (default <c>ts1</c>).</summary>
    public string Name { get; init; } = "ts1";

    /// <summary><c>--state=mem:</c> instead of <c>--statedir</c>: the node registers as ephemeral and a clean stop logs it out.</summary>
    public bool Ephemeral { get; init; }

    /// <summary><c>TS_DEBUG_ALWAYS_USE_DERP=true</c>: no UDP paths (start the control server with <see cref="TestControlServerOptions.ReadonlyUpdatesDerp"/>).</summary>
    public bool DerpOnly { get; init; }

    /// <summary>Also start the outbound HTTP proxy (<c>--outbound-http-proxy-listen</c>) on a free port.</summary>
    public bool HttpProxy { get; init; }

    /// <summary>Extra environment variables for tailscaled.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
}
