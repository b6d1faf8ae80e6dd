using System.Net;
using System.Net.Sockets;
using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.WireGuard;

/// <summary>
/// <see cref="UnderlayAddress.WriteTo"/> fills the reusable send address of the UDP underlay: it must produce exactly
/// the native sockaddr .NET itself would (the family field holds the platform's value, 10 for AF_INET6 on Linux), or
/// every send to an IPv6 endpoint fails with EINVAL.
/// </summary>
public sealed class UnderlayAddressSocketAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:41641")]
    [InlineData("192.0.2.200:1")]
    [InlineData("[::1]:41641")]
    [InlineData("[fd7a:115c:a1e0::1]:65535")]
    [InlineData("[fe80::1%3]:7")]
    public void WriteTo_MatchesTheRuntimesOwnSocketAddress(string text)
    {
        var endPoint = IPEndPoint.Parse(text);
        var expected = endPoint.Serialize();
        var reused = new SocketAddress(endPoint.AddressFamily);

        // Reused: a previous, different address of the same family must leave nothing behind.
        UnderlayAddress.FromIPEndPoint(new IPEndPoint(endPoint.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Broadcast : IPAddress.Parse("ffff::ffff"), 9)).WriteTo(reused);
        UnderlayAddress.FromIPEndPoint(endPoint).WriteTo(reused);

        reused.Size.Should().Be(expected.Size);
        reused.Buffer[..reused.Size].ToArray().Should().Equal(expected.Buffer[..expected.Size].ToArray());
        reused.Family.Should().Be(endPoint.AddressFamily);
    }

    [Fact]
    public void WriteTo_OtherFamily_Throws()
    {
        var v4 = new SocketAddress(AddressFamily.InterNetwork);
        FluentActions.Invoking(() => UnderlayAddress.FromIPEndPoint(IPEndPoint.Parse("[::1]:1")).WriteTo(v4))
            .Should().Throw<ArgumentException>();
    }

    [Fact]
    public void WriteTo_Ipv6_ASocketSendsToIt()
    {
        using var receiver = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        using var sender = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
        var address = new SocketAddress(AddressFamily.InterNetworkV6);
        UnderlayAddress.FromIPEndPoint((IPEndPoint)receiver.LocalEndPoint!).WriteTo(address);

        sender.SendTo(new byte[] { 1, 2, 3 }, SocketFlags.None, address).Should().Be(3);
        receiver.ReceiveTimeout = 5000;
        var buffer = new byte[16];
        receiver.Receive(buffer).Should().Be(3);
        buffer[..3].Should().Equal(1, 2, 3);
    }
}
