using System.Net;
using System.Text;

namespace TsNet.Tests.Facade;

/// <summary>Dial names: peer names, name.DnsSuffix and IP literals only — never the host's DNS.</summary>
public sealed class DnsSuffixTests
{
    private static TailnetServerOptions Options(string address, string? suffix) => new()
    {
        PrivateKey = WireGuardKey.Generate(),
        Addresses = { IPNetwork.Parse(address + "/32") },
        DnsSuffix = suffix,
    };

    private static TailnetServer WithPeers(string? suffix)
    {
        var options = Options("100.64.0.1", suffix);
        options.Peers.Add(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Name = "db", AllowedIps = { IPNetwork.Parse("fd7a::2/128"), IPNetwork.Parse("100.64.0.2/32") } });
        options.Peers.Add(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Name = "web.tailnet.example", AllowedIps = { IPNetwork.Parse("100.64.0.3/32") } });
        options.Peers.Add(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, Name = "lan", AllowedIps = { IPNetwork.Parse("192.168.0.0/24") } });
        return new TailnetServer(options);
    }

    [Theory]
    [InlineData("db:5432", "100.64.0.2")]
    [InlineData("DB:5432", "100.64.0.2")]
    [InlineData("db.:5432", "100.64.0.2")]
    [InlineData("db.tailnet.example:5432", "100.64.0.2")]
    [InlineData("Db.TailNet.Example.:5432", "100.64.0.2")]
    [InlineData("web.tailnet.example:5432", "100.64.0.3")]
    [InlineData("100.64.0.9:5432", "100.64.0.9")]
    [InlineData("[fd7a::9]:5432", "fd7a::9")]
    public async Task KnownNamesAndLiterals_Resolve(string target, string expected)
    {
        await using var server = WithPeers(".tailnet.example.");
        server.ResolveDialTarget(target).Should().Be(new IPEndPoint(IPAddress.Parse(expected), 5432));
    }

    [Theory]
    [InlineData("db.other.example:5432")]
    [InlineData("tailnet.example:5432")]
    [InlineData(".tailnet.example:5432")]
    [InlineData("db.tailnet.example.com:5432")]
    [InlineData("xdb.tailnet.example:5432")]
    [InlineData("localhost:5432")]
    [InlineData("example.com:80")]
    public async Task OtherNames_AreErrors_ThatRuleOutTheHostsDns(string target)
    {
        await using var server = WithPeers("tailnet.example");
        var host = target[..target.LastIndexOf(':')];

        FluentActions.Invoking(() => server.ResolveDialTarget(target)).Should().Throw<ArgumentException>()
            .WithMessage($"'{host}' is neither an IP address nor the name of a peer: it is not a configured peer name (peer names: db, web.tailnet.example, lan; each also answers to <name>.tailnet.example), and TsNet never falls back to the host's DNS.*");
    }

    [Fact]
    public async Task WithoutSuffix_OnlyBareNamesResolve()
    {
        await using var server = WithPeers(null);
        server.ResolveDialTarget("db:1").Address.Should().Be(IPAddress.Parse("100.64.0.2"));
        FluentActions.Invoking(() => server.ResolveDialTarget("db.tailnet.example:1")).Should().Throw<ArgumentException>()
            .WithMessage("*not a configured peer name (peer names: db, web.tailnet.example, lan)*never falls back to the host's DNS*");
    }

    [Fact]
    public async Task PeerWithoutASingleAddress_CannotBeDialedByName()
    {
        await using var server = WithPeers("tailnet.example");
        FluentActions.Invoking(() => server.ResolveDialTarget("lan.tailnet.example:1")).Should().Throw<ArgumentException>()
            .WithMessage("Peer 'lan' has no single-address AllowedIPs entry*");
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(".")]
    [InlineData("..tailnet.example")]
    [InlineData("tailnet..example")]
    [InlineData("-tailnet.example")]
    [InlineData("tailnet_example")]
    [InlineData("tailnet.example..")]
    public void InvalidSuffix_IsRejected(string suffix)
    {
        FluentActions.Invoking(() => new TailnetServer(Options("100.64.0.1", suffix))).Should().Throw<ArgumentException>()
            .WithMessage($"DnsSuffix '{suffix}' is not a DNS name*");
    }

    [Fact]
    public async Task SuffixedName_Dials_AndHttpClientReachesIt()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var a = new TailnetServer(Options("100.64.0.1", "tailnet.example"));
        var b = new TailnetServer(Options("100.64.0.2", null));
        await using (a)
        await using (b)
        {
            await a.StartAsync(cts.Token);
            await b.StartAsync(cts.Token);
            a.AddOrUpdatePeer(new TailnetPeer { PublicKey = b.PublicKey, Endpoint = "127.0.0.1:" + b.ListenPort, AllowedIps = { IPNetwork.Parse("100.64.0.2/32") }, Name = "db" });
            b.AddOrUpdatePeer(new TailnetPeer { PublicKey = a.PublicKey, AllowedIps = { IPNetwork.Parse("100.64.0.1/32") } });
            await PingEventuallyAsync(a, IPAddress.Parse("100.64.0.2"), cts.Token);

            await using var listener = await b.ListenTcpAsync(8080, cts.Token);
            var server = Task.Run(() => ServeAsync(listener, 2, cts.Token), cts.Token);

            await using (var connection = await a.ConnectTcpAsync("db.tailnet.example:8080", cts.Token))
            {
                connection.RemoteEndPoint.Should().Be(new IPEndPoint(IPAddress.Parse("100.64.0.2"), 8080));
                await connection.WriteAsync("GET /raw HTTP/1.1\r\nHost: db\r\n\r\n"u8.ToArray(), cts.Token);
                var reply = new MemoryStream();
                await connection.CopyToAsync(reply, cts.Token);
                Encoding.ASCII.GetString(reply.ToArray()).Should().EndWith("hello /raw");
            }

            using var http = a.CreateHttpClient();
            (await http.GetStringAsync(new Uri("http://db.tailnet.example:8080/suffixed"), cts.Token)).Should().Be("hello /suffixed");
            await server;

            var unknown = async () => await http.GetStringAsync(new Uri("http://db.elsewhere.example:8080/"), cts.Token);
            (await unknown.Should().ThrowAsync<HttpRequestException>()).WithInnerException<ArgumentException>()
                .WithMessage("*'db.elsewhere.example' is neither an IP address nor the name of a peer*never falls back to the host's DNS*");
        }
    }

    private static async Task PingEventuallyAsync(TailnetServer from, IPAddress to, CancellationToken cancellationToken)
    {
        // Peers are applied asynchronously after AddOrUpdatePeer: allow a bounded number of tries.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await from.PingAsync(to, TimeSpan.FromSeconds(1), cancellationToken);
                return;
            }
            catch (TimeoutException) when (attempt < 10)
            {
            }
        }
    }

    /// <summary>A minimal HTTP/1.1 responder: one response per connection, then close.</summary>
    private static async Task ServeAsync(TailnetListener listener, int connections, CancellationToken cancellationToken)
    {
        for (var served = 0; served < connections; served++)
        {
            await using var connection = await listener.AcceptAsync(cancellationToken) ?? throw new InvalidOperationException("listener closed");
            var request = new StringBuilder();
            var buffer = new byte[1024];
            for (var reads = 0; reads < 100 && !request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal); reads++)
            {
                var n = await connection.ReadAsync(buffer, cancellationToken);
                if (n == 0)
                {
                    break;
                }

                request.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }

            var body = Encoding.UTF8.GetBytes($"hello {request.ToString().Split(' ')[1]}");
            var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
            await connection.WriteAsync(head, cancellationToken);
            await connection.WriteAsync(body, cancellationToken);
            await connection.ShutdownWriteAsync(cancellationToken);
        }
    }
}
