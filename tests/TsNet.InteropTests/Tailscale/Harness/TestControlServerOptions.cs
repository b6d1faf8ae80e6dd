namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// Flags of <c>testcontrol-server</c> (one property per row of the README's table; null or false leaves the server's
/// default). <c>-listen</c> is always 127.0.0.1 with a free port chosen by <see cref="TestControlServer"/>.
/// </summary>
public sealed class TestControlServerOptions
{
    /// <summary><c>-derp-host</c>: the DERP node's name in the DERP map (server default <c>derp.tail.test</c>).</summary>
    public string? DerpHost { get; init; }

    /// <summary><c>-derp-ip</c> (server default 127.0.0.1).</summary>
    public string? DerpIp { get; init; }

    /// <summary><c>-derp-port</c>: the DERP TLS port (server default 3340; use <see cref="DerpServer.TlsPort"/>).</summary>
    public int? DerpPort { get; init; }

    /// <summary><c>-stun-port</c> (server default 3478; -1: none; use <see cref="DerpServer.StunPort"/>).</summary>
    public int? StunPort { get; init; }

    /// <summary><c>-domain</c>: node names <c>&lt;host&gt;.D.</c> (server default <c>tail.test</c>; empty: no names).</summary>
    public string? Domain { get; init; }

    /// <summary><c>-magicdns</c> (server default true).</summary>
    public bool? MagicDns { get; init; }

    /// <summary><c>-filter</c>: a JSON array of filter rules (written to a file in the work directory); null: allow all.</summary>
    public string? FilterRulesJson { get; init; }

    /// <summary><c>-authkey</c>, once per key: only these keys register; empty: any key is accepted.</summary>
    public IReadOnlyList<string> AuthKeys { get; init; } = Array.Empty<string>();

    /// <summary><c>-require-auth</c>: interactive login (the register response carries an <c>AuthURL</c>).</summary>
    public bool RequireAuth { get; init; }

    /// <summary><c>-ephemeral-grace</c>: how long after its last map stream an ephemeral node is deleted (server default 5 s).</summary>
    public TimeSpan? EphemeralGrace { get; init; }

    /// <summary><c>-readonly-updates-derp</c>: needed when nodes run with <c>TS_DEBUG_ALWAYS_USE_DERP=true</c>.</summary>
    public bool ReadonlyUpdatesDerp { get; init; }

    /// <summary><c>-dump-dir</c> (a <c>control-dump</c> directory in the work directory): every map request and response as JSON.</summary>
    public bool DumpMaps { get; init; }

    /// <summary><c>-verbose</c>: log register requests.</summary>
    public bool Verbose { get; init; }

    /// <summary><c>-tags</c> (server default true): honour <c>Hostinfo.RequestTags</c> at registration.</summary>
    public bool? Tags { get; init; }

    /// <summary><c>-approve-routes</c>: advertised routes join <c>AllowedIPs</c>/<c>PrimaryRoutes</c>.</summary>
    public bool ApproveRoutes { get; init; }

    /// <summary><c>-deltas</c>: after the first full map of a stream, only changes.</summary>
    public bool Deltas { get; init; }

    /// <summary>The command-line flags (without <c>-listen</c>); <paramref name="filterFile"/> and <paramref name="dumpDirectory"/> are used when set above.</summary>
    public IReadOnlyList<string> ToArguments(string filterFile, string dumpDirectory)
    {
        var arguments = new List<string>();
        AddValue(arguments, "-derp-host", DerpHost);
        AddValue(arguments, "-derp-ip", DerpIp);
        AddValue(arguments, "-derp-port", DerpPort?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AddValue(arguments, "-stun-port", StunPort?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (Domain is not null)
        {
            // "-domain=" keeps an empty value one argument (Go's flag package).
            arguments.Add("-domain=" + Domain);
        }

        AddBool(arguments, "-magicdns", MagicDns);
        if (FilterRulesJson is not null)
        {
            arguments.Add("-filter");
            arguments.Add(filterFile);
        }

        foreach (var key in AuthKeys)
        {
            arguments.Add("-authkey");
            arguments.Add(key);
        }

        AddSwitch(arguments, "-require-auth", RequireAuth);
        if (EphemeralGrace is { } grace)
        {
            arguments.Add("-ephemeral-grace");
            arguments.Add(((long)grace.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) + "ms");
        }

        AddSwitch(arguments, "-readonly-updates-derp", ReadonlyUpdatesDerp);
        if (DumpMaps)
        {
            arguments.Add("-dump-dir");
            arguments.Add(dumpDirectory);
        }

        AddSwitch(arguments, "-verbose", Verbose);
        AddBool(arguments, "-tags", Tags);
        AddSwitch(arguments, "-approve-routes", ApproveRoutes);
        AddSwitch(arguments, "-deltas", Deltas);
        return arguments;
    }

    private static void AddValue(List<string> arguments, string flag, string? value)
    {
        if (value is not null)
        {
            arguments.Add(flag);
            arguments.Add(value);
        }
    }

    private static void AddSwitch(List<string> arguments, string flag, bool on)
    {
        if (on)
        {
            arguments.Add(flag);
        }
    }

    private static void AddBool(List<string> arguments, string flag, bool? value)
    {
        if (value is { } on)
        {
            arguments.Add(flag + "=" + (on ? "true" : "false"));
        }
    }
}
