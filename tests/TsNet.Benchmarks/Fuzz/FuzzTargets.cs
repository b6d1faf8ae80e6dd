using TsNet.Benchmarks.Fuzz.Targets;

namespace TsNet.Benchmarks.Fuzz;

/// <summary>The targets of the <c>fuzz</c> command by name, in the order <c>--target all</c> runs them.</summary>
internal static class FuzzTargets
{
    /// <summary>Name → factory; a fresh instance per run (and after a hang, whose thread is abandoned).</summary>
    public static IReadOnlyList<(string Name, Func<IFuzzTarget> Create)> All { get; } =
    [
        ("ip", () => new PacketViewsTarget()),
        ("stun", () => new StunFuzzTarget()),
        ("derp", () => new DerpFramesTarget()),
        ("wireguard", () => new WireGuardFuzzTarget()),
        ("relay", () => new RelayFuzzTarget()),
        ("disco", () => new DiscoPathTarget()),
        ("tcp", () => new TcpCoreTarget()),
        ("netstack", () => new NetstackTarget()),
        ("control", () => new ControlMapTarget()),
        ("noise", () => new ControlNoiseTarget()),
        ("controljson", () => new ControlJsonTarget()),
        ("socks5", () => new Socks5Target()),
    ];

    /// <summary>The factory for <paramref name="name"/>, or null.</summary>
    public static Func<IFuzzTarget>? Find(string name)
    {
        foreach (var (targetName, create) in All)
        {
            if (string.Equals(targetName, name, StringComparison.Ordinal))
            {
                return create;
            }
        }

        return null;
    }
}
