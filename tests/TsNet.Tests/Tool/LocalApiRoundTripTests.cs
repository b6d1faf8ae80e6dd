using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Tool.Cli;
using TsNet.Tool.LocalApi;
using TsNet.Underlay;

namespace TsNet.Tests.Tool;

/// <summary>
/// The local API end to end in one process: two nodes on the in-memory underlay, node A's API on a socket in a temp
/// directory, and <c>tsnet status</c>/<c>ping</c>/<c>whois</c> run against it as the CLI runs them; plus how the
/// server treats its socket file (0600, stale replaced, live or foreign refused, deleted on stop).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // Unix sockets and file modes are the point
public sealed class LocalApiRoundTripTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly IPAddress A4 = IPAddress.Parse("100.64.0.1");
    private static readonly IPAddress B4 = IPAddress.Parse("100.64.0.2");

    private readonly string _directory = Directory.CreateTempSubdirectory("tsnet-localapi-").FullName;

    private string SocketPath => Path.Combine(_directory, "tsnet.sock");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task StatusPingWhoIs_ThroughTheSocket()
    {
        using var bound = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(bound.Token);
        await using (a)
        await using (b)
        {
            await using (LocalApiServer.Start(SocketPath, a, NullLogger.Instance))
            {
                File.GetUnixFileMode(SocketPath).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, "only the node's user may talk to it");

                var status = await RunAsync(bound.Token, "status", "--socket", SocketPath);
                status.ExitCode.Should().Be(ExitCodes.Success, status.Error);
                var lines = status.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                lines[0].Should().MatchRegex("^name +addresses +path +last handshake +rx bytes +tx bytes$");
                lines[1].Should().MatchRegex("^- +100\\.64\\.0\\.1 +self ");
                lines[2].Should().MatchRegex("^b +100\\.64\\.0\\.2 +direct 127\\.0\\.0\\.1:[0-9]+ +[0-9.]+ s ago +[1-9][0-9]* +[1-9][0-9]*$", "the pair's handshake and ping show");

                var json = await RunAsync(bound.Token, "status", "--json", "--state", _directory);
                json.ExitCode.Should().Be(ExitCodes.Success, json.Error);
                var parsed = JsonSerializer.Deserialize(json.Output, TailnetJson.Status)!;
                parsed.PublicKey.Should().Be(a.PublicKey, "--state DIR finds DIR/tsnet.sock");
                parsed.Peers.Should().ContainSingle().Which.PublicKey.Should().Be(b.PublicKey);

                var ping = await RunAsync(bound.Token, "ping", "b", "-c", "2", "--socket", SocketPath);
                ping.ExitCode.Should().Be(ExitCodes.Success, ping.Error);
                ping.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(2)
                    .And.AllSatisfy(l => l.Should().MatchRegex("^pong from b \\(100\\.64\\.0\\.2\\) via direct 127\\.0\\.0\\.1:[0-9]+ in [0-9]+\\.[0-9] ms$"));

                var whois = await RunAsync(bound.Token, "whois", "100.64.0.2:80", "--socket", SocketPath);
                whois.ExitCode.Should().Be(ExitCodes.Success, whois.Error);
                whois.Output.Should().Contain($"node key: {b.PublicKey}\n").And.Contain("host: b\n").And.Contain("addresses: 100.64.0.2\n");

                var whoisJson = await RunAsync(bound.Token, "whois", "100.64.0.2", "--json", "--socket", SocketPath);
                JsonSerializer.Deserialize(whoisJson.Output, TailnetJson.PeerIdentity)!.NodeKey.Should().Be(b.PublicKey);

                var unknown = await RunAsync(bound.Token, "whois", "100.64.0.77", "--socket", SocketPath);
                unknown.ExitCode.Should().Be(ExitCodes.Failure);
                unknown.Output.Should().BeEmpty();
                unknown.Error.Should().Be("tsnet whois: 100.64.0.77: no peer has the address 100.64.0.77\n");

                var noSuchPeer = await RunAsync(bound.Token, "ping", "nosuch", "--socket", SocketPath);
                noSuchPeer.ExitCode.Should().Be(ExitCodes.Failure);
                noSuchPeer.Error.Should().Contain("'nosuch' is neither an IP address nor the name of a peer (peers: b)");
            }

            File.Exists(SocketPath).Should().BeFalse("the socket is deleted when the API stops");
        }
    }

    [Fact]
    public async Task PingWithoutReply_ExitsOne_SayingWhyOnStderr()
    {
        using var bound = new CancellationTokenSource(Bound);
        var (a, b) = await StartPairAsync(bound.Token);
        await using (a)
        await using (LocalApiServer.Start(SocketPath, a, NullLogger.Instance))
        {
            // B is gone: A still routes 100.64.0.2 to it, and the echo goes unanswered.
            await b.DisposeAsync();

            var ping = await RunAsync(bound.Token, "ping", "100.64.0.2", "-c", "1", "--socket", SocketPath);

            ping.ExitCode.Should().Be(ExitCodes.Failure);
            ping.Output.Should().BeEmpty("stdout has one line per reply, and none came");
            ping.Error.Should().StartWith("no reply from 100.64.0.2: ");
        }
    }

    [Fact]
    public async Task NoNode_ExitsOne_SayingSo()
    {
        foreach (var command in new[] { "status", "ping", "whois" })
        {
            string[] args = command switch
            {
                "ping" => ["ping", "b", "--socket", SocketPath],
                "whois" => ["whois", "100.64.0.2", "--socket", SocketPath],
                _ => ["status", "--socket", SocketPath],
            };

            var run = await RunAsync(CancellationToken.None, args);

            run.ExitCode.Should().Be(ExitCodes.Failure, command);
            run.Output.Should().BeEmpty();
            run.Error.Should().Be($"tsnet {command}: no node answers on {SocketPath} (no such socket): is 'tsnet up' running? Point at its socket with --socket PATH or --state DIR\n");
        }
    }

    [Fact]
    public async Task SocketFile_StaleReplaced_LiveAndForeignRefused()
    {
        using var bound = new CancellationTokenSource(Bound);
        await using var node = new TailnetServer(Options(A4, new InMemoryUnderlayHub(TimeProvider.System)));
        await node.StartAsync(bound.Token);

        // To a client, a socket bound but not listening is what a node that died leaves behind: connecting is refused.
        // (Disposing it would unlink the file, as .NET does for the sockets it bound: it stays open to the end.)
        using var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        stale.Bind(new UnixDomainSocketEndPoint(SocketPath));

        File.Exists(SocketPath).Should().BeTrue();
        await using (LocalApiServer.Start(SocketPath, node, NullLogger.Instance))
        {
            (await RunAsync(bound.Token, "status", "--socket", SocketPath)).ExitCode.Should().Be(ExitCodes.Success, "the stale socket was replaced");

            var second = () => LocalApiServer.Start(SocketPath, node, NullLogger.Instance);
            second.Should().Throw<LocalApiException>().WithMessage($"another node answers on {SocketPath}: give this one its own --socket PATH or --state DIR");
        }

        var file = Path.Combine(_directory, "notes.txt");
        await File.WriteAllTextAsync(file, "keep me", bound.Token);
        var onFile = () => LocalApiServer.Start(file, node, NullLogger.Instance);
        onFile.Should().Throw<LocalApiException>().WithMessage($"{file} exists and is not a socket; remove it or choose another --socket");
        (await File.ReadAllTextAsync(file, bound.Token)).Should().Be("keep me");
    }

    [Fact]
    public async Task MissingDirectory_IsMadeOwnerOnly()
    {
        using var bound = new CancellationTokenSource(Bound);
        await using var node = new TailnetServer(Options(A4, new InMemoryUnderlayHub(TimeProvider.System)));
        await node.StartAsync(bound.Token);
        var path = Path.Combine(_directory, "run", "tsnet.sock");

        await using (LocalApiServer.Start(path, node, NullLogger.Instance))
        {
            File.GetUnixFileMode(Path.GetDirectoryName(path)!).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            (await RunAsync(bound.Token, "status", "--socket", path)).ExitCode.Should().Be(ExitCodes.Success);
        }
    }

    [Fact]
    public async Task BadRequests_GetAnErrorLine_OverlongOnesAreCut()
    {
        using var bound = new CancellationTokenSource(Bound);
        await using var node = new TailnetServer(Options(A4, new InMemoryUnderlayHub(TimeProvider.System)));
        await node.StartAsync(bound.Token);
        await using var server = LocalApiServer.Start(SocketPath, node, NullLogger.Instance);

        var answers = new List<LocalApiAnswer>();
        await foreach (var answer in LocalApiClient.AskAsync(SocketPath, "ping db 0", TimeSpan.FromSeconds(10), bound.Token))
        {
            answers.Add(answer);
        }

        answers.Should().ContainSingle().Which.Kind.Should().Be(LocalApiAnswerKind.Error);
        answers[0].Text.Should().StartWith("unknown request 'ping db 0'");

        var cut = new List<LocalApiAnswer>();
        try
        {
            await foreach (var answer in LocalApiClient.AskAsync(SocketPath, "status " + new string('x', LocalApiProtocol.MaxRequestBytes), TimeSpan.FromSeconds(10), bound.Token))
            {
                cut.Add(answer);
            }
        }
        catch (LocalApiException)
        {
            // The node closed on the unread rest of the line: the client may see that as a reset.
        }

        cut.Should().BeEmpty("the node does not answer an over-long request");
        (await RunAsync(bound.Token, "status", "--socket", SocketPath)).ExitCode.Should().Be(ExitCodes.Success, "and goes on serving");
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(CancellationToken cancellationToken, params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var exitCode = await TsNetCli.RunAsync(args, new CliConsole(new StringReader(string.Empty), output, error), cancellationToken);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static TailnetServerOptions Options(IPAddress address, InMemoryUnderlayHub hub) => new()
    {
        PrivateKey = WireGuardKey.Generate(),
        Addresses = { new IPNetwork(address, 32) },
        TestHooks = new TailnetTestHooks { InMemoryUnderlay = hub },
    };

    /// <summary>Two started nodes (B named "b" at A) that have completed a handshake.</summary>
    private static async Task<(TailnetServer A, TailnetServer B)> StartPairAsync(CancellationToken cancellationToken)
    {
        var hub = new InMemoryUnderlayHub(TimeProvider.System);
        var a = new TailnetServer(Options(A4, hub));
        var b = new TailnetServer(Options(B4, hub));
        await a.StartAsync(cancellationToken);
        await b.StartAsync(cancellationToken);
        a.AddOrUpdatePeer(new TailnetPeer { PublicKey = b.PublicKey, Endpoint = "127.0.0.1:" + b.ListenPort, AllowedIps = { new IPNetwork(B4, 32) }, Name = "b" });
        b.AddOrUpdatePeer(new TailnetPeer { PublicKey = a.PublicKey, AllowedIps = { new IPNetwork(A4, 32) }, Name = "a" });
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await a.PingAsync(B4, TimeSpan.FromSeconds(2), cancellationToken);
                return (a, b);
            }
            catch (TimeoutException) when (attempt < 5)
            {
                // Peers apply asynchronously; the first handshake may still be on its way.
            }
        }
    }
}
