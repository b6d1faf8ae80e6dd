using System.Text;
using TsNet.Control.Netmap;
using TsNet.Control.Protocol;
using TsNet.Registry;

namespace TsNet.Benchmarks.Fuzz.Targets;

/// <summary>
/// <c>control</c>: a map poll's response body through <see cref="MapFrameReader"/> (length-prefixed frames, JSON or
/// zstd-compressed JSON into <see cref="MapResponse"/>), each message folded by <see cref="NetmapFolder"/> and applied
/// to a <see cref="PeerRegistry"/>, as the control client does. Byte 0 of an input picks zstd (bit 0); the rest is
/// the stream. Every input starts from a fresh folder and registry, so a finding's bytes alone reproduce it.
/// Documented rejection: <see cref="ControlProtocolException"/>.
/// </summary>
internal sealed class ControlMapTarget : IFuzzTarget
{
    private const string Self = """
        {"ID":1,"Name":"self.tailnet.example.","User":1,"Key":"nodekey:0101010101010101010101010101010101010101010101010101010101010101",
         "Addresses":["100.64.0.1/32","fd7a:115c:a1e0:ab12:4843:cd96:6240:1/128"],"KeyExpiry":"2030-01-01T00:00:00Z","Cap":106}
        """;

    private const string SaasLikeFull = """
        {"Node":SELF,
         "DERPMap":{"Regions":{"1":{"RegionID":1,"RegionCode":"nyc","RegionName":"New York City","Latitude":40.7128,"Longitude":-74.006,"Nodes":[
            {"Name":"1h","RegionID":1,"HostName":"derp1h.tailscale.com","IPv4":"199.38.181.93","IPv6":"2607:f740:f::afd","CanPort80":true},
            {"Name":"1i","RegionID":1,"HostName":"derp1i.tailscale.com","IPv4":"199.38.181.103","STUNOnly":true,"STUNPort":3478,"DERPPort":443}]},
            "900":{"RegionID":900,"RegionCode":"own","Nodes":[{"Name":"900a","RegionID":900,"HostName":"localhost","InsecureForTests":true,"STUNPort":-1}]}},
            "OmitDefaultRegions":true},
         "Peers":[PEERS],
         "DNSConfig":{"Routes":{"tailnet.example.":null,"ts.net.":[{"Addr":"199.247.155.53"},{"Addr":"2620:111:8007::53"}]},
                      "Domains":["tailnet.example"],"Proxied":true,"Resolvers":[{"Addr":"1.1.1.1"}],"ExitNodeFilteredSet":[".ts.net"]},
         "Domain":"tailnet.example","CollectServices":true,
         "PacketFilter":[{"SrcIPs":["100.80.60.40","fd7a:115c:a1e0::f000:9abc","*"],"DstPorts":[{"IP":"*","Ports":{"First":22,"Last":22}},{"IP":"100.64.0.0/10","Ports":{"First":0,"Last":65535}}],"IPProto":[6,17]},
                         {"SrcIPs":["100.105.123.1"],"CapGrant":[{"CapMap":{"tailscale.com/cap/drive":[{"access":"rw"}]},"Dsts":["100.105.123.1/32"]}]}],
         "UserProfiles":[{"ID":1,"LoginName":"user-1@example.net","DisplayName":"User 1"},{"ID":2,"LoginName":"user-2@example.net","DisplayName":"User 2","ProfilePicURL":"https://example.net/p.png"}],
         "SSHPolicy":{"rules":[]},
         "ControlDialPlan":{"Candidates":[{"IP":"2606:b740:49::114","DialTimeoutSec":10,"Priority":5}]},
         "DefaultAutoUpdate":true,"ControlTime":"2025-09-30T00:32:16.013505287Z","KeepAlive":false,"Seq":3}
        """;

    private const string Delta = """
        {"PeersChanged":[PEER4],"PeersRemoved":[3],
         "PeersChangedPatch":[{"NodeID":2,"DERPRegion":900,"Endpoints":["[2001:db8::2]:41641","192.0.2.77:1"],"Key":"nodekey:2222222222222222222222222222222222222222222222222222222222222222","DiscoKey":"discokey:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","Online":false,"LastSeen":"2025-01-01T00:00:00Z","KeyExpiry":"2031-01-01T00:00:00Z","Capabilities":["https://tailscale.com/cap/is-admin"]}],
         "OnlineChange":{"2":true,"4":false},"PeerSeenChange":{"2":true},
         "DERPMap":{"HomeParams":{"RegionScore":{"1":0.5}},"Regions":{"2":{"RegionID":2,"RegionCode":"sfo","Nodes":[{"Name":"2a","RegionID":2,"HostName":"derp2.example","IPv4":"192.0.2.9"}]},"900":null}},
         "PacketFilters":{"base":[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":80,"Last":80}}]}],"*":null},
         "ControlTime":"2025-09-30T00:33:00Z"}
        """;

    private static readonly FixedTime s_time = new();
    private long _messages;
    private long _peersSeen;

    public ControlMapTarget()
    {
        var full = SaasLikeFull.Replace("SELF", Self, StringComparison.Ordinal)
            .Replace("PEERS", Peer(2, 0x22, "web", 2) + "," + Peer(3, 0x33, "db.tailnet.example.", 3, ""","Tags":["tag:db"],"HomeDERP":900,"PrimaryRoutes":["10.1.0.0/16"],"AllowedIPs":["100.64.0.3/32","10.1.0.0/16"]"""), StringComparison.Ordinal);
        var delta = Delta.Replace("PEER4", Peer(4, 0x44, "new", 4, ""","Online":null,"Expired":true"""), StringComparison.Ordinal);
        var frames = new[] { Frame(full), Frame(delta), Frame("""{"KeepAlive":true}"""), Frame("""{"Peers":[],"Node":""" + Self + "}") };
        Corpus =
        [
            [0, .. frames[0], .. frames[1], .. frames[2]],
            [0, .. frames[0], .. frames[3], .. frames[1]],
            [0, .. frames[2], .. frames[0]],
            [1, .. Zstd(full), .. Zstd(delta), .. Zstd("""{"KeepAlive":true}"""), .. Zstd("""{"KeepAlive":true}""")],
            [0, .. Frame(ControlJsonSaas)],
        ];
    }

    public IReadOnlyList<byte[]> Corpus { get; }

    public int MaxInputLength => 16 * 1024;

    public string Describe() => $"map messages decoded {_messages}, peers held after folding (sum) {_peersSeen}";

    public void Execute(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var reader = new MapFrameReader(new MemoryStream(input, 1, input.Length - 1, writable: false), zstd: (input[0] & 1) != 0,
            maxFrameBytes: 64 * 1024, maxDecodedBytes: 256 * 1024);
        var folder = new NetmapFolder(s_time);
        var registry = new PeerRegistry();
        try
        {
            for (var frames = 0; frames < 16; frames++)
            {
                var response = reader.ReadAsync(default).AsTask().GetAwaiter().GetResult();
                if (response is null)
                {
                    return;
                }

                _messages++;
                var update = folder.Apply(response);
                update?.ApplyTo(registry);
                _peersSeen += folder.PeerCount;
            }
        }
        catch (ControlProtocolException)
        {
        }
    }

    private static string Peer(long id, byte key, string name, int address, string extra = "") =>
        $$"""
        {"ID":{{id}},"Name":"{{name}}","User":{{(id % 2) + 1}},"Key":"nodekey:{{Convert.ToHexStringLower(Enumerable.Repeat(key, 32).ToArray())}}",
         "DiscoKey":"discokey:{{new string('d', 64)}}","KeyExpiry":"0001-01-01T00:00:00Z",
         "Addresses":["100.64.0.{{address}}/32","fd7a:115c:a1e0:ab12:4843:cd96:6240:{{address}}/128"],
         "Endpoints":["192.0.2.{{address}}:41641","[2001:db8::{{address}}]:41641"],"DERP":"127.3.3.40:1","Online":true,
         "Hostinfo":{"OS":"linux","Hostname":"{{name}}","Services":[{"Proto":"peerapi4","Port":36297}]},"Cap":{{100 + id}}{{extra}}}
        """;

    private static byte[] Frame(string json)
    {
        var payload = Encoding.UTF8.GetBytes(json);
        return MapFrame.Encode(payload);
    }

    private static byte[] Zstd(string json)
    {
        using var compressor = new ZstdSharp.Compressor(3);
        return MapFrame.Encode(compressor.Wrap(Encoding.UTF8.GetBytes(json)));
    }

    /// <summary>The shape of a real SaaS message (test-fixtures.md A.7), without a self node (ignored before one arrives).</summary>
    private const string ControlJsonSaas = """
        {"PeersChanged":[{"ID":1679275757477108,"Name":"relay.tail252fff.ts.net.","User":7326703659639870,
           "Key":"nodekey:a57413f6734a12fa6f50e600891517deef4d324ea63de8915da511550a20a23f",
           "Addresses":["100.96.162.64/32","fd7a:115c:a1e0::a01:a241/128"],"AllowedIPs":null,"HomeDERP":1,"DERP":"127.3.3.40:12","Online":true}],
         "ControlTime":"2025-09-30T00:32:16.013505287Z"}
        """;

    private sealed class FixedTime : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    }
}
