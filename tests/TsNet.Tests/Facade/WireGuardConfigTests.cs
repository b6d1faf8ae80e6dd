using System.Globalization;
using System.Net;
using System.Text;

namespace TsNet.Tests.Facade;

/// <summary>wg-quick files → TailnetServerOptions: what is read, what is ignored with a warning, and every error with its line.</summary>
public sealed class WireGuardConfigTests
{
    private static readonly WireGuardKey Private = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly WireGuardKey PeerA = new(Enumerable.Range(101, 32).Select(i => (byte)i).ToArray());
    private static readonly WireGuardKey PeerB = new(Enumerable.Range(151, 32).Select(i => (byte)i).ToArray());
    private static readonly WireGuardKey Psk = new(Enumerable.Range(201, 32).Select(i => (byte)i).ToArray());

    private static readonly string Realistic = Fill("""
        # wg0.conf of the app server (written for wg-quick, read by TsNet)
        [Interface]
        PrivateKey = {K}
        Address = 100.64.0.2/32, fd7a:115c:a1e0::2/128
        ListenPort = 51821
        MTU = 1380
        DNS = 100.64.0.1
        PostUp = iptables -A FORWARD -i %i -j ACCEPT
        SaveConfig = false

        [Peer]
        # Name = db
        PublicKey = {A}
        PresharedKey = {S}
        Endpoint = db.example.com:51820
        AllowedIPs = 100.64.0.1/32
        AllowedIPs = fd7a:115c:a1e0::1/128
        PersistentKeepalive = 25

        [Peer]
        #name=web   # the web tier
        publickey={B}
        endpoint = [2001:db8::1]:51820   # behind a v6-only NAT64
        allowedips = 10.10.5.0/24,   100.64.0.3
        PersistentKeepalive = off
        """);

    private static string Fill(string text) => text
        .Replace("{K}", Private.ToString(), StringComparison.Ordinal)
        .Replace("{A}", PeerA.ToString(), StringComparison.Ordinal)
        .Replace("{B}", PeerB.ToString(), StringComparison.Ordinal)
        .Replace("{S}", Psk.ToString(), StringComparison.Ordinal)
        .Replace("{OWN}", Private.PublicKey.ToString(), StringComparison.Ordinal);

    private static TailnetServerOptions Parse(string text, List<string>? warnings = null) =>
        TailnetServerOptions.FromWireGuardConfig(Fill(text), warnings is null ? null : warnings.Add);

    [Fact]
    public void RealisticFile_IsReadCompletely()
    {
        var warnings = new List<string>();
        var options = Parse(Realistic, warnings);

        options.PrivateKey.Should().Be(Private);
        options.Addresses.Should().Equal(IPNetwork.Parse("100.64.0.2/32"), IPNetwork.Parse("fd7a:115c:a1e0::2/128"));
        options.ListenPort.Should().Be(51821);
        options.Mtu.Should().Be(1380);
        options.Peers.Should().HaveCount(2);

        var db = options.Peers[0];
        db.Name.Should().Be("db");
        db.PublicKey.Should().Be(PeerA);
        db.PresharedKey.Should().Be(Psk);
        db.Endpoint.Should().Be("db.example.com:51820");
        db.AllowedIps.Should().Equal(IPNetwork.Parse("100.64.0.1/32"), IPNetwork.Parse("fd7a:115c:a1e0::1/128"));
        db.PersistentKeepalive.Should().Be(TimeSpan.FromSeconds(25));

        var web = options.Peers[1];
        web.Name.Should().Be("web");
        web.PublicKey.Should().Be(PeerB);
        web.PresharedKey.Should().BeNull();
        web.Endpoint.Should().Be("[2001:db8::1]:51820");
        web.AllowedIps.Should().Equal(IPNetwork.Parse("10.10.5.0/24"), IPNetwork.Parse("100.64.0.3/32"));
        web.PersistentKeepalive.Should().BeNull();

        warnings.Should().HaveCount(3);
        warnings[0].Should().StartWith("line 7: DNS is ignored: ");
        warnings[1].Should().StartWith("line 8: PostUp is ignored: ");
        warnings[2].Should().StartWith("line 9: SaveConfig is ignored: ");
    }

    [Fact]
    public void RealisticFile_RoundTripsThroughWgQuickText()
    {
        var first = Parse(Realistic);
        var second = TailnetServerOptions.FromWireGuardConfig(Render(first));

        second.PrivateKey.Should().Be(first.PrivateKey);
        second.Addresses.Should().Equal(first.Addresses);
        second.ListenPort.Should().Be(first.ListenPort);
        second.Mtu.Should().Be(first.Mtu);
        second.Peers.Should().HaveCount(first.Peers.Count);
        for (var i = 0; i < first.Peers.Count; i++)
        {
            var (a, b) = (first.Peers[i], second.Peers[i]);
            b.Name.Should().Be(a.Name);
            b.PublicKey.Should().Be(a.PublicKey);
            b.PresharedKey.Should().Be(a.PresharedKey);
            b.Endpoint.Should().Be(a.Endpoint);
            b.AllowedIps.Should().Equal(a.AllowedIps);
            b.PersistentKeepalive.Should().Be(a.PersistentKeepalive);
        }
    }

    [Fact]
    public void ParsedOptions_MakeAServerWithThatKey()
    {
        var options = Parse(Realistic);
        var server = new TailnetServer(options);
        server.PublicKey.Should().Be(Private.PublicKey);
        server.Addresses.Should().Equal(IPAddress.Parse("100.64.0.2"), IPAddress.Parse("fd7a:115c:a1e0::2"));
        server.ListenPort.Should().Be(51821);
    }

    [Fact]
    public void Syntax_FollowsWgQuick_CaseCommentsWhitespaceCrlfAndBom()
    {
        var text = "\uFEFF# leading comment\r\n\r\n  [ interface ]  # trailing\r\n\tPRIVATEKEY\t=\t{K}   # secret\r\n"
            + "address=10.0.0.2\r\nADDRESS = fd00::2 ,10.0.0.3/24\r\n\r\n[PEER]\r\n   # Name   =   api-1  \r\npublicKEY= {A}\r\nAllowedIps =\r\n";
        var options = Parse(text);

        options.PrivateKey.Should().Be(Private);
        // Bare addresses get a host prefix; the node's own address keeps only the host part of 10.0.0.3/24.
        options.Addresses.Should().Equal(IPNetwork.Parse("10.0.0.2/32"), IPNetwork.Parse("fd00::2/128"), IPNetwork.Parse("10.0.0.3/32"));
        var peer = options.Peers.Should().ContainSingle().Subject;
        peer.Name.Should().Be("api-1");
        peer.PublicKey.Should().Be(PeerA);
        peer.AllowedIps.Should().BeEmpty();
        peer.Endpoint.Should().BeNull();
    }

    [Fact]
    public void AllowedIps_ClearHostBits_AndBareAddressesAreHostRoutes()
    {
        var options = Parse("[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\nAllowedIPs = 10.1.2.3/16, fd7a::77/64, 192.168.1.9, fd7a::9, 0.0.0.0/0, ::/0\n");
        options.Peers[0].AllowedIps.Should().Equal(
            IPNetwork.Parse("10.1.0.0/16"),
            IPNetwork.Parse("fd7a::/64"),
            IPNetwork.Parse("192.168.1.9/32"),
            IPNetwork.Parse("fd7a::9/128"),
            IPNetwork.Parse("0.0.0.0/0"),
            IPNetwork.Parse("::/0"));
    }

    [Theory]
    [InlineData("PersistentKeepalive = 0", 0)]
    [InlineData("PersistentKeepalive = 65535", 65535)]
    [InlineData("persistentkeepalive = OFF", -1)]
    public void PersistentKeepalive_SecondsOrOff(string line, int expectedSeconds)
    {
        var options = Parse("[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\n" + line + "\n");
        options.Peers[0].PersistentKeepalive.Should().Be(expectedSeconds < 0 ? null : TimeSpan.FromSeconds(expectedSeconds));
    }

    [Theory]
    [InlineData("DNS = 1.1.1.1, example.com")]
    [InlineData("Table = off")]
    [InlineData("PreUp = true")]
    [InlineData("PostUp = echo a=b")]
    [InlineData("PreDown = true")]
    [InlineData("PostDown = true")]
    [InlineData("SaveConfig = true")]
    [InlineData("FwMark = 0x1234")]
    public void KernelOnlySettings_AreIgnored_WithAWarningNamingTheLine(string line)
    {
        var warnings = new List<string>();
        var options = Parse("[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n" + line + "\n", warnings);

        var key = line[..line.IndexOf(' ', StringComparison.Ordinal)];
        warnings.Should().ContainSingle().Which.Should().StartWith($"line 4: {key} is ignored: ");
        options.PrivateKey.Should().Be(Private);
    }

    [Fact]
    public void NameComment_OutsideAPeer_AndOtherComments_AreJustComments()
    {
        var options = Parse("# Name = nobody\n[Interface]\n# Name = me\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\n# Nickname = x\n# the name is below\nPublicKey = {A}\n");
        options.Peers.Should().ContainSingle().Which.Name.Should().BeNull();
    }

    public static TheoryData<string, int, string> BadFiles => new()
    {
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peers]\n", 4, "unknown section [Peers] (expected [Interface] or [Peer])" },
        { "[Interface\nPrivateKey = {K}\n", 1, "section header '[Interface' has no closing ']'" },
        { "PrivateKey = {K}\n[Interface]\n", 1, "PrivateKey is outside a section" },
        { "# comment\n\nAddress = 10.0.0.1\n", 3, "Address is outside a section" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\nPort = 1\n", 4, "unknown key 'Port' in [Interface]" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\nAllowedIP = 10.0.0.2\n", 6, "unknown key 'AllowedIP' in [Peer]" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\nDNS = 1.1.1.1\n", 6, "unknown key 'DNS' in [Peer]" },
        { "[Interface]\nPrivateKey = not-a-key\n", 2, "PrivateKey is not a valid key" },
        { "[Interface]\nPrivateKey = AAECAwQFBgcICQoLDA0ODw==\n", 2, "PrivateKey is not a valid key" },
        { "[Interface]\nPrivateKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 2, "PrivateKey is all zeros" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}x\n", 5, "PublicKey is not a valid key" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\nPresharedKey = abc\n", 6, "PresharedKey is not a valid key" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.300/32\n", 3, "'10.0.0.300/32' is not an IP address" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.1\n", 3, "'10.1' is not an IP address" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 010.0.0.1\n", 3, "'010.0.0.1' is not an IP address" },
        { "[Interface]\nPrivateKey = {K}\nAddress = fe80::1%eth0\n", 3, "'fe80::1%eth0' is not an IP address" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1/33\n", 3, "'10.0.0.1/33' has a bad prefix length '33' (0-32 for IPv4)" },
        { "[Interface]\nPrivateKey = {K}\nAddress = fd00::1/129\n", 3, "'fd00::1/129' has a bad prefix length '129' (0-128 for IPv6)" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1/\n", 3, "bad prefix length ''" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1/-1\n", 3, "bad prefix length '-1'" },
        { "[Interface]\nPrivateKey = {K}\nAddress =\n", 3, "Address has no value" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1,,10.0.0.2\n", 3, "Address has an empty entry" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\nAddress = 10.0.0.1/24\n", 4, "Address 10.0.0.1 is listed twice" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\nAllowedIPs = 10.0.0.0/24, host.example\n", 6, "'host.example' is not an IP address" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\nAllowedIPs = 10.0.0.0/24,\n", 6, "AllowedIPs has an empty entry" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\nListenPort = 70000\n", 4, "ListenPort '70000' is not a port (0-65535)" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\nListenPort = 5182x\n", 4, "ListenPort '5182x' is not a port" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\nListenPort = -1\n", 4, "ListenPort '-1' is not a port" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\nMTU = 100\n", 4, "MTU '100' is not an MTU (576-9000)" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\nEndpoint = vpn.example.com\n", 6, "Endpoint 'vpn.example.com' is not host:port" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\nEndpoint = 2001:db8::1:51820\n", 6, "write IPv6 addresses as [address]:port" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\nEndpoint = 192.0.2.1:0\n", 6, "Endpoint '192.0.2.1:0' has no valid port (1-65535)" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\nEndpoint = [2001:db8::1]:99999\n", 6, "has no valid port" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\nPersistentKeepalive = 70000\n", 6, "PersistentKeepalive '70000' is not 'off' or seconds (0-65535)" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\nPersistentKeepalive = never\n", 6, "PersistentKeepalive 'never' is not 'off' or seconds" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n\n[Peer]\n# Name = db\nAllowedIPs = 10.0.0.2\n", 5, "this [Peer] has no PublicKey" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\n[Peer]\nEndpoint = 192.0.2.1:1\n[Peer]\nPublicKey = {B}\n", 6, "this [Peer] has no PublicKey" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\n[Peer]\nPublicKey = {A}\n", 7, $"duplicate peer: PublicKey {PeerA} is already used on line 5" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\nPublicKey = {B}\n", 6, "PublicKey is already set on line 5" },
        { "[Interface]\nPrivateKey = {K}\nPrivateKey = {K}\n", 3, "PrivateKey is already set on line 2" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\nListenPort = 1\nlistenport = 2\n", 5, "ListenPort is already set on line 4" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Interface]\n", 4, "a second [Interface] section (the first is on line 1)" },
        { "[Interface]\nPrivateKey {K}\n", 2, "expected 'Key = Value'" },
        { "[Interface]\nPrivate Key = {K}\n", 2, "expected 'Key = Value' (the key is not a single word)" },
        { "[Interface]\n = {K}\n", 2, "there is no key before '='" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\n# Name = not valid\nPublicKey = {A}\n", 5, "peer name 'not valid' is not a host name" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\n# Name = -db\nPublicKey = {A}\n", 5, "peer name '-db' is not a host name" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\n# Name = 10.0.0.9\nPublicKey = {A}\n", 5, "peer name '10.0.0.9' is not a host name" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\n# Name = db\n# Name = db2\nPublicKey = {A}\n", 6, "the peer already has a name on line 5" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\n# Name = db\nPublicKey = {A}\n[Peer]\n# Name = DB\nPublicKey = {B}\n", 8, "peer name 'DB' is already used by the peer named on line 5" },
        { "[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {OWN}\n", 5, "this PublicKey is the interface's own public key" },
        { "[Interface]\nAddress = 10.0.0.1\n[Peer]\nPublicKey = {A}\n", 0, "the [Interface] section (line 1) has no PrivateKey" },
        { "# only a comment\n[Peer]\nPublicKey = {A}\n", 0, "there is no [Interface] section" },
        { "", 0, "there is no [Interface] section" },
        { "[Interface]\nPrivateKey = {K}\n[Peer]\nPublicKey = {A}\n", 0, "the [Interface] section (line 1) has no Address" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadFile_FailsWithLineNumberAndReason(string text, int line, string reason)
    {
        var act = () => Parse(text);

        var error = act.Should().Throw<WireGuardConfigException>().Which;
        error.Should().BeAssignableTo<FormatException>();
        error.LineNumber.Should().Be(line);
        error.Reason.Should().Contain(reason);
        error.FileName.Should().BeNull();
        error.Message.Should().Be(line > 0 ? $"line {line}: {error.Reason}" : error.Reason);
    }

    [Fact]
    public void BadKey_MessageDoesNotEchoTheSecret()
    {
        const string almostKey = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlYw==";
        var act = () => Parse($"[Interface]\nPrivateKey = {almostKey}\n");
        act.Should().Throw<WireGuardConfigException>().Which.Message.Should().NotContain(almostKey).And.StartWith("line 2: PrivateKey");

        var withoutEquals = () => Parse("[Interface]\nPrivateKey {K}\n");
        withoutEquals.Should().Throw<WireGuardConfigException>().Which.Message.Should().NotContain(Private.ToString().TrimEnd('='));
    }

    [Fact]
    public void File_ErrorsAndWarningsNameTheFile()
    {
        var directory = Directory.CreateTempSubdirectory("tsnet-config-");
        try
        {
            var path = Path.Combine(directory.FullName, "wg0.conf");
            File.WriteAllText(path, Fill("[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\nDNS = 10.0.0.53\n"));
            var warnings = new List<string>();
            var options = TailnetServerOptions.FromWireGuardConfigFile(path, warnings.Add);
            options.PrivateKey.Should().Be(Private);
            warnings.Should().ContainSingle().Which.Should().StartWith($"{path}:4: DNS is ignored: ");

            File.WriteAllText(path, Fill("[Interface]\nPrivateKey = {K}\nAddress = 10.0.0.1\nMTU = big\n"));
            var error = FluentActions.Invoking(() => TailnetServerOptions.FromWireGuardConfigFile(path)).Should().Throw<WireGuardConfigException>().Which;
            error.FileName.Should().Be(path);
            error.LineNumber.Should().Be(4);
            error.Message.Should().Be($"{path}:4: MTU 'big' is not an MTU (576-9000)");

            File.WriteAllText(path, "[Interface]\nAddress = 10.0.0.1\n");
            FluentActions.Invoking(() => TailnetServerOptions.FromWireGuardConfigFile(path)).Should().Throw<WireGuardConfigException>()
                .Which.Message.Should().Be($"{path}: the [Interface] section (line 1) has no PrivateKey");

            FluentActions.Invoking(() => TailnetServerOptions.FromWireGuardConfigFile(Path.Combine(directory.FullName, "missing.conf")))
                .Should().Throw<FileNotFoundException>();
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Writes options back as wg-quick text (the inverse of the parser, for the round trip).</summary>
    private static string Render(TailnetServerOptions options)
    {
        var text = new StringBuilder();
        text.Append("[Interface]\n");
        text.Append(CultureInfo.InvariantCulture, $"PrivateKey = {options.PrivateKey}\n");
        text.Append(CultureInfo.InvariantCulture, $"Address = {string.Join(", ", options.Addresses)}\n");
        text.Append(CultureInfo.InvariantCulture, $"ListenPort = {options.ListenPort}\n");
        text.Append(CultureInfo.InvariantCulture, $"MTU = {options.Mtu}\n");
        foreach (var peer in options.Peers)
        {
            text.Append("\n[Peer]\n");
            if (peer.Name is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"# Name = {peer.Name}\n");
            }

            text.Append(CultureInfo.InvariantCulture, $"PublicKey = {peer.PublicKey}\n");
            if (peer.PresharedKey is { } psk)
            {
                text.Append(CultureInfo.InvariantCulture, $"PresharedKey = {psk}\n");
            }

            if (peer.Endpoint is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"Endpoint = {peer.Endpoint}\n");
            }

            text.Append(CultureInfo.InvariantCulture, $"AllowedIPs = {string.Join(", ", peer.AllowedIps)}\n");
            text.Append(CultureInfo.InvariantCulture, $"PersistentKeepalive = {(peer.PersistentKeepalive is { } k ? ((int)k.TotalSeconds).ToString(CultureInfo.InvariantCulture) : "off")}\n");
        }

        return text.ToString();
    }
}
