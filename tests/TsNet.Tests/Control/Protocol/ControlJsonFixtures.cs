namespace TsNet.Tests.Control.Protocol;

/// <summary>JSON from <c>test-fixtures.md</c> A.7 (real Tailscale SaaS messages, shortened where the doc elides).</summary>
internal static class ControlJsonFixtures
{
    public const string SaasNode = """
        {
          "ID": 1679275757477108,
          "StableID": "nT8AH9jY7E11CNTRL",
          "Name": "relay.tail252fff.ts.net.",
          "User": 7326703659639870,
          "Key": "nodekey:a57413f6734a12fa6f50e600891517deef4d324ea63de8915da511550a20a23f",
          "KeyExpiry": "2026-01-25T18:31:27Z",
          "DiscoKey": "discokey:7f12a1c47c70be1b4722d680b2442ccb517f194a9d24f28b8c9a165eb2f7b74a",
          "Addresses": ["100.96.162.64/32", "fd7a:115c:a1e0::a01:a241/128"],
          "AllowedIPs": null,
          "Endpoints": ["18.217.166.210:41641", "172.31.33.196:41641"],
          "HomeDERP": 1,
          "DERP": "127.3.3.40:12",
          "Hostinfo": {
            "OS": "linux",
            "Hostname": "relay",
            "Services": [{"Proto": "peerapi4", "Port": 36297}, {"Proto": "peerapi6", "Port": 40008}],
            "sshHostKeys": null
          },
          "Created": "2025-07-29T18:31:27.550535802Z",
          "Cap": 127,
          "Tags": null,
          "Online": true
        }
        """;

    public const string SaasMapResponse = """
        {
          "Node": {
            "ID": 6523515364831089, "StableID": "nLzY4qgWws11CNTRL",
            "Name": "tailscale-rs1.tail252fff.ts.net.", "User": 7326703659639870,
            "Key": "nodekey:7d56c29e77fdd9b76ddcaa1e17e1866a6d4afb1daae3a639fbee46b6b61dcd6d",
            "KeyExpiry": "2026-03-24T05:41:06Z",
            "DiscoKey": "discokey:0000000000000000000000000000000000000000000000000000000000000000",
            "Addresses": ["100.93.205.110/32", "fd7a:115c:a1e0::b601:cd6e/128"],
            "AllowedIPs": ["100.93.205.110/32", "fd7a:115c:a1e0::b601:cd6e/128"],
            "Hostinfo": {"Hostname": "tailscale-rs1"},
            "Created": "2025-09-25T05:41:06.417127373Z", "Tags": null, "MachineAuthorized": true,
            "CapMap": {"https://tailscale.com/cap/file-sharing": null, "https://tailscale.com/cap/is-admin": null,
                       "https://tailscale.com/cap/is-owner": null, "https://tailscale.com/cap/ssh": null,
                       "https://tailscale.com/cap/tailnet-lock": null, "probe-udp-lifetime": null,
                       "ssh-behavior-v1": null, "ssh-env-vars": null, "store-appc-routes": null}
          },
          "DERPMap": {"Regions": {"1": {"RegionID": 1, "RegionCode": "nyc", "RegionName": "New York City",
            "Latitude": 40.7128, "Longitude": -74.006, "Nodes": [
             {"Name": "1h", "RegionID": 1, "HostName": "derp1h.tailscale.com", "IPv4": "199.38.181.93", "IPv6": "2607:f740:f::afd", "CanPort80": true},
             {"Name": "1i", "RegionID": 1, "HostName": "derp1i.tailscale.com", "IPv4": "199.38.181.103", "IPv6": "2607:f740:f::e19", "STUNOnly": true, "CanPort80": true}]}}},
          "PeersChanged": [
            {"ID": 1679275757477108, "Name": "relay.tail252fff.ts.net.", "User": 7326703659639870,
             "Key": "nodekey:a57413f6734a12fa6f50e600891517deef4d324ea63de8915da511550a20a23f",
             "Addresses": ["100.96.162.64/32", "fd7a:115c:a1e0::a01:a241/128"], "AllowedIPs": null,
             "HomeDERP": 1, "DERP": "127.3.3.40:12", "Online": true}
          ],
          "DNSConfig": {"Routes": {"tail252fff.ts.net.": null, "ts.net.": [{"Addr": "199.247.155.53"}, {"Addr": "2620:111:8007::53"}]},
                        "Domains": ["tail252fff.ts.net"], "Proxied": true, "ExitNodeFilteredSet": [".ts.net", ".tailscale.net"]},
          "Domain": "bogus-test-tailscale.github",
          "CollectServices": true,
          "PacketFilter": [
            {"SrcIPs": ["100.80.60.40", "fd7a:115c:a1e0::f000:9abc"],
             "CapGrant": [{"CapMap": {"tailscale.com/cap/drive": [{"access": "rw", "shares": ["*"]}]},
                           "Dsts": ["100.105.123.1/32", "fd7a:115c:a1e0::/128"]}]},
            {"SrcIPs": ["100.105.123.1"], "DstPorts": [{"IP": "*", "Ports": {"First": 80, "Last": 80}},
                                                       {"IP": "*", "Ports": {"First": 443, "Last": 443}}]}
          ],
          "UserProfiles": [{"ID": 7326703659639870, "LoginName": "bogus-test-tailscale@github",
                            "DisplayName": "Bogus Test", "ProfilePicURL": "https://avatars.githubusercontent.com/u/12345789?v=4"}],
          "SSHPolicy": {"rules": []},
          "ControlDialPlan": {"Candidates": [{"IP": "2606:b740:49::114", "DialTimeoutSec": 10, "Priority": 5}]},
          "DefaultAutoUpdate": true,
          "ControlTime": "2025-09-30T00:32:16.013505287Z"
        }
        """;
}
