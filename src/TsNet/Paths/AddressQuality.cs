using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

/// <summary>A direct address with its measured round trip (ticks), as <c>betterAddr</c> compares them.</summary>
/// <param name="Address">The peer's address (<c>default</c> = none).</param>
/// <param name="Latency">Round trip of the last ping/pong, 100 ns ticks.</param>
internal readonly record struct AddressQuality(UnderlayAddress Address, long Latency)
{
    // Bonuses of disco-direct.md §3.9: prefer nearer address classes when latencies are roughly equal.
    private const int LoopbackBonus = 50;
    private const int LinkLocalBonus = 30;
    private const int PrivateBonus = 20;
    private const int IPv6Bonus = 10;

    /// <summary>
    /// <c>betterAddr(a, b)</c> (disco-direct.md §3.9): is <paramref name="a"/> worth switching to from
    /// <paramref name="b"/>? Path MTU is not probed, so the same address is never better.
    /// </summary>
    public static bool IsBetter(in AddressQuality a, in AddressQuality b)
    {
        if (a.Address == b.Address)
        {
            return false;
        }

        if (!b.Address.IsSet)
        {
            return true;
        }

        if (!a.Address.IsSet)
        {
            return false;
        }

        bool aDirect = a.Address.Vni == 0;
        if (aDirect != (b.Address.Vni == 0))
        {
            return aDirect;
        }

        // The faster one scores how many percent faster it is than the slower.
        int aPoints = 0;
        int bPoints = 0;
        if (a.Latency > b.Latency && a.Latency > 0)
        {
            bPoints = (int)(100 - (b.Latency * 100 / a.Latency));
        }
        else if (b.Latency > 0)
        {
            aPoints = (int)(100 - (a.Latency * 100 / b.Latency));
        }

        aPoints += Bonus(a.Address);
        bPoints += Bonus(b.Address);

        // Hysteresis: a gain of at most 1 % is not worth a switch.
        if (aPoints <= 1 && bPoints == 0)
        {
            return false;
        }

        return aPoints > bPoints;
    }

    private static int Bonus(in UnderlayAddress address)
    {
        int points = DiscoAddress.IsLoopback(address) ? LoopbackBonus
            : DiscoAddress.IsLinkLocal(address) ? LinkLocalBonus
            : DiscoAddress.IsPrivate(address) ? PrivateBonus
            : 0;
        return address.IsIPv6 ? points + IPv6Bonus : points;
    }
}
