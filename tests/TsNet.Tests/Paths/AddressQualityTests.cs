using TsNet.Paths;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.Paths;

/// <summary><c>betterAddr</c> (disco-direct.md §3.9), one rule per case.</summary>
public sealed class AddressQualityTests
{
    private static AddressQuality Q(string endpoint, double latencyMs) =>
        new(DiscoTestNetwork.Address(endpoint), (long)(latencyMs * TimeSpan.TicksPerMillisecond));

    [Theory]
    [InlineData("203.0.113.1:1", 10, "203.0.113.1:1", 5, false)] // same address: no MTU probing, never better
    [InlineData("203.0.113.1:1", 50, "", 0, true)] // anything beats nothing
    [InlineData("", 0, "203.0.113.1:1", 50, false)]
    [InlineData("203.0.113.1:1", 5, "203.0.113.2:1", 10, true)] // 50 % faster
    [InlineData("203.0.113.1:1", 9.9, "203.0.113.2:1", 10, false)] // 1 % faster: hysteresis
    [InlineData("203.0.113.1:1", 9.8, "203.0.113.2:1", 10, true)] // 2 % faster
    [InlineData("203.0.113.1:1", 10, "203.0.113.2:1", 9.8, false)] // slower
    [InlineData("10.0.0.1:1", 10, "203.0.113.2:1", 10, true)] // private +20
    [InlineData("172.16.5.1:1", 10, "203.0.113.2:1", 10, true)]
    [InlineData("192.168.1.1:1", 10, "203.0.113.2:1", 10, true)]
    [InlineData("172.32.0.1:1", 10, "203.0.113.2:1", 10, false)] // not RFC 1918
    [InlineData("203.0.113.2:1", 9, "10.0.0.1:1", 10, false)] // 10 % faster does not beat private's 20
    [InlineData("203.0.113.2:1", 7, "10.0.0.1:1", 10, true)] // 30 % faster does
    [InlineData("127.0.0.1:1", 10, "10.0.0.1:1", 10, true)] // loopback 50 > private 20
    [InlineData("[::1]:1", 10, "127.0.0.1:1", 10, true)] // loopback + IPv6
    [InlineData("[fe80::1]:1", 10, "10.0.0.1:1", 10, true)] // link-local 30 + IPv6 10 > 20
    [InlineData("[fd00::1]:1", 10, "10.0.0.1:1", 10, true)] // ULA 20 + IPv6 10 > 20
    [InlineData("[2001:db8::1]:1", 10, "203.0.113.2:1", 10, true)] // IPv6 +10
    [InlineData("203.0.113.2:1", 10, "[2001:db8::1]:1", 10, false)]
    public void IsBetter(string a, double aMs, string b, double bMs, bool expected)
    {
        var qa = a.Length == 0 ? default : Q(a, aMs);
        var qb = b.Length == 0 ? default : Q(b, bMs);
        AddressQuality.IsBetter(qa, qb).Should().Be(expected);
    }

    [Fact]
    public void DirectBeatsRelayed_EvenWhenSlower()
    {
        var direct = Q("203.0.113.1:1", 50);
        var relayed = new AddressQuality(DiscoTestNetwork.Address("203.0.113.9:1").WithVni(5), TimeSpan.TicksPerMillisecond);
        AddressQuality.IsBetter(direct, relayed).Should().BeTrue();
        AddressQuality.IsBetter(relayed, direct).Should().BeFalse();
    }
}
