namespace TsNet.Tests.Packets;

/// <summary>
/// Packets as they appear on the wire. Unless noted, they were built by a script independent of TsNet and every
/// checksum was confirmed by Wireshark (tshark with IP/UDP/TCP checksum validation on).
/// </summary>
internal static class PacketFixtures
{
    /// <summary>Wikipedia's IPv4 header checksum example (192.168.0.1 → 192.168.0.199, UDP, checksum 0xb861),
    /// followed by its 95-byte payload (zeros here).</summary>
    public static readonly byte[] WikipediaIpv4 = Hex("450000730000400040 11b861c0a80001c0a800c7".Replace(" ", "", StringComparison.Ordinal) + new string('0', 95 * 2));

    /// <summary>tailscale net/packet tsmp_test.go: IPv4 protocol 99, checksum 0x705d (docs/protocols/test-fixtures.md A.12).</summary>
    public static readonly byte[] TsmpIpv4 = Hex("45000035000000004063705d0102030404030201616161616161616161616161616161616161616161616161616161616161616161");

    /// <summary>tailscale net/packet tsmp_test.go: IPv6 next header 99, payload length 33.</summary>
    public static readonly byte[] TsmpIpv6 = Hex("600000000021634020010db800000000000000000000000120010db8000000000000000000000002616161616161616161616161616161616161616161616161616161616161616161");

    /// <summary>Linux-style ping 100.64.0.1 → 100.64.0.2, id 0x1c46, seq 1, 48 data bytes, IP ID 0x5d3e, DF.</summary>
    public static readonly byte[] Ipv4EchoRequest = Hex("4500004c5d3e4000400114f06440000164400002080015651c4600016d1b9a6500000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");

    /// <summary>The reply to <see cref="Ipv4EchoRequest"/> (IP ID 0x9a21, no DF).</summary>
    public static readonly byte[] Ipv4EchoReply = Hex("4500004c9a2100004001180d644000026440000100001d651c4600016d1b9a6500000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");

    /// <summary>ping fd7a:115c:a1e0::1 → ::2, id 0x2b07, seq 3, 48 data bytes, flow label 0x5f1e2.</summary>
    public static readonly byte[] Ipv6EchoRequest = Hex("6005f1e200383a40fd7a115ca1e000000000000000000001fd7a115ca1e00000000000000000000280002cbd2b0700036d1b9a6500000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");

    /// <summary>The reply to <see cref="Ipv6EchoRequest"/>.</summary>
    public static readonly byte[] Ipv6EchoReply = Hex("6000000000383a40fd7a115ca1e000000000000000000002fd7a115ca1e00000000000000000000181002bbd2b0700036d1b9a6500000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");

    /// <summary>DNS query for example.com A, 100.64.0.1:53124 → 100.100.100.100:53, UDP checksum 0x87a5.</summary>
    public static readonly byte[] Ipv4UdpDns = Hex("450000391234000040113b776440000164646464cf840035002587a5abcd01000001000000000000076578616d706c6503636f6d0000010001");

    /// <summary>UDP "hello tailnet", [fd7a:115c:a1e0::1]:40000 → [::2]:5353, checksum 0xe902.</summary>
    public static readonly byte[] Ipv6Udp = Hex("6000000000151140fd7a115ca1e000000000000000000001fd7a115ca1e0000000000000000000029c4014e90015e90268656c6c6f207461696c6e6574");

    /// <summary>Linux SYN 51000 → 443 with MSS 1460, SACK permitted, timestamps (TSval 0x0a1b2c3d), window scale 7.</summary>
    public static readonly byte[] Ipv4TcpSyn = Hex("4500003cbeef40004006b3496440000164400002c73801bb3a2f1b0c00000000a002faf030050000020405b40402080a0a1b2c3d0000000001030307");

    /// <summary>PSH|ACK with NOP NOP timestamps and "GET / HTTP/1.1\r\n\r\n", window 502, over IPv6.</summary>
    public static readonly byte[] Ipv6TcpData = Hex("6000000000320640fd7a115ca1e000000000000000000001fd7a115ca1e000000000000000000002c73801bb3a2f1b0d10203040801801f6d30400000101080a0a1b2c4077665544474554202f20485454502f312e310d0a0d0a");

    /// <summary>IPv6 echo request (id 0x2b07, seq 4, data "ext") behind a Hop-by-Hop header (router alert + PadN) and a
    /// Destination Options header (PadN); the ICMPv6 message starts at offset 56.</summary>
    public static readonly byte[] Ipv6ExtensionEcho = Hex("60000000001b0040fd7a115ca1e000000000000000000001fd7a115ca1e0000000000000000000023c000502000001003a00010400000000800019c42b070004657874");

    /// <summary>IPv4 echo request (id 7, seq 9, data "opts") with a Router Alert option: IHL 6.</summary>
    public static readonly byte[] Ipv4OptionsEcho = Hex("46000024000140004001dd506440000164400002940400000800140c000700096f707473");

    /// <summary>First fragment (MF set, offset 0) of an IPv4 echo request, ID 0x4242.</summary>
    public static readonly byte[] Ipv4FragmentFirst = Hex("4500002c424220004001500c64400001644000020800f7ee0007000a00000000000000000000000000000000");

    /// <summary>Last fragment (offset 3 × 8 = 24 bytes, MF clear) of the same datagram.</summary>
    public static readonly byte[] Ipv4FragmentLast = Hex("4500001c424200034001701964400001644000020000000000000000");

    /// <summary>IPv6 first fragment (Fragment header, ident 0xdeadbeef, M set) of an ICMPv6 echo request.</summary>
    public static readonly byte[] Ipv6Fragment = Hex("6000000000182c40fd7a115ca1e000000000000000000001fd7a115ca1e0000000000000000000023a000001deadbeef80001e41000100010000000000000000");

    /// <summary>ICMPv6 Packet Too Big (MTU 1280) quoting the first 48 bytes of <see cref="Ipv6Udp"/>.</summary>
    public static readonly byte[] Ipv6PacketTooBig = Hex("6000000000383a40fd7a115ca1e000000000000000000002fd7a115ca1e00000000000000000000102002a12000005006000000000151140fd7a115ca1e000000000000000000001fd7a115ca1e0000000000000000000029c4014e90015e902");

    /// <summary>ICMPv4 destination unreachable / fragmentation needed (next-hop MTU 1280) quoting <see cref="Ipv4UdpDns"/>.</summary>
    public static readonly byte[] Ipv4FragmentationNeeded = Hex("45000038000000004001b24264400002644000010304a07700000500450000391234000040113b776440000164646464cf840035002587a5");

    /// <summary>Every fixture, for fuzzing.</summary>
    public static IEnumerable<byte[]> All =>
    [
        WikipediaIpv4, TsmpIpv4, TsmpIpv6, Ipv4EchoRequest, Ipv4EchoReply, Ipv6EchoRequest, Ipv6EchoReply, Ipv4UdpDns, Ipv6Udp,
        Ipv4TcpSyn, Ipv6TcpData, Ipv6ExtensionEcho, Ipv4OptionsEcho, Ipv4FragmentFirst, Ipv4FragmentLast, Ipv6Fragment,
        Ipv6PacketTooBig, Ipv4FragmentationNeeded,
    ];

    public static byte[] Hex(string hex) => Convert.FromHexString(hex);
}
