using System.Net;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.WireGuard;

/// <summary>The path layer's address forms: DERP regions (127.3.3.40:region) and virtual per-peer path addresses.</summary>
public sealed class UnderlayAddressPathTests
{
    [Fact]
    public void Derp_IsTailscalesMagicAddressWithTheRegionAsPort()
    {
        var derp = UnderlayAddress.Derp(7);

        derp.IsDerp.Should().BeTrue();
        derp.IsPeerPath.Should().BeFalse();
        derp.Port.Should().Be(7);
        derp.ToIPEndPoint().Should().Be(IPEndPoint.Parse("127.3.3.40:7"));
        UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("127.3.3.40:7")).IsDerp.Should().BeTrue();
        UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("127.3.3.41:7")).IsDerp.Should().BeFalse();
        UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("127.0.0.1:7")).IsDerp.Should().BeFalse();
        FluentActions.Invoking(() => UnderlayAddress.Derp(0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => UnderlayAddress.Derp(65536)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void PeerPath_RoundTripsItsIdAndIsNoRealAddress()
    {
        var path = UnderlayAddress.PeerPath(42);

        path.IsPeerPath.Should().BeTrue();
        path.IsDerp.Should().BeFalse();
        path.PeerPathId.Should().Be(42u);
        path.Should().Be(UnderlayAddress.PeerPath(42));
        path.Should().NotBe(UnderlayAddress.PeerPath(43));
        path.ToIPAddress().Should().Be(IPAddress.Parse("100::2a"), "the IPv6 discard-only prefix never names a real underlay address");
        UnderlayAddress.PeerPath(uint.MaxValue).PeerPathId.Should().Be(uint.MaxValue);
        UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("[2001:db8::2a]:1")).IsPeerPath.Should().BeFalse();
        UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("127.0.0.1:1")).PeerPathId.Should().Be(0u);
        FluentActions.Invoking(() => UnderlayAddress.PeerPath(0)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
