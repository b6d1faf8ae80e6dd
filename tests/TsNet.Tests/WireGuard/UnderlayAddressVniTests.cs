using System.Net;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.WireGuard;

/// <summary>The relay VNI in <see cref="UnderlayAddress"/>: part of identity (equality, hash, cookie input), 0 = direct.</summary>
public sealed class UnderlayAddressVniTests
{
    private static readonly UnderlayAddress Relay = UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("192.0.2.7:3478"));

    [Fact]
    public void Vni_TakesPartInEqualityAndHash()
    {
        var direct = Relay;
        var one = Relay.WithVni(1);
        var oneAgain = UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("192.0.2.7:3478")).WithVni(1);
        var two = Relay.WithVni(2);

        direct.Vni.Should().Be(0);
        one.Vni.Should().Be(1);
        one.Should().Be(oneAgain);
        (one == oneAgain).Should().BeTrue();
        one.GetHashCode().Should().Be(oneAgain.GetHashCode());
        (one == two).Should().BeFalse();
        (one == direct).Should().BeFalse();
        one.WithVni(0).Should().Be(direct);
        one.ToIPEndPoint().Should().Be(IPEndPoint.Parse("192.0.2.7:3478"), "the socket address is the relay's");
        one.ToString().Should().Be("192.0.2.7:3478 vni 1");

        one.AddressKey.Should().Be(oneAgain.AddressKey);
        one.AddressKey.Should().NotBe(two.AddressKey, "per-source tables (handshake rate limits) tell relay endpoints apart");

        var table = new Dictionary<UnderlayAddress, int> { [direct] = 0, [one] = 1, [two] = 2 };
        table[oneAgain].Should().Be(1);
        table.Should().HaveCount(3);
    }

    [Fact]
    public void Vni_IsLimitedTo24Bits()
    {
        Relay.WithVni((1u << 24) - 1).Vni.Should().Be(0xFFFFFF);
        var act = () => Relay.WithVni(1u << 24);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void CookieEncoding_DirectUnchanged_RelayedAppendsVni()
    {
        var buffer = new byte[UnderlayAddress.MaxEncodedLength];
        var length = Relay.EncodeForCookie(buffer);
        buffer.AsSpan(0, length).ToArray().Should().Equal(192, 0, 2, 7, 0x96, 0x0D); // port 3478 little-endian, like wireguard-go

        length = Relay.WithVni(0xABCDEF).EncodeForCookie(buffer);
        buffer.AsSpan(0, length).ToArray().Should().Equal(192, 0, 2, 7, 0x96, 0x0D, 0xAB, 0xCD, 0xEF);

        var v6 = UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("[2001:db8::1]:443")).WithVni((1u << 24) - 1);
        v6.EncodeForCookie(buffer).Should().Be(UnderlayAddress.MaxEncodedLength, "the longest encoding fills the buffer exactly");
    }
}
