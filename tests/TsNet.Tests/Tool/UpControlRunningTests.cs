using System.Text.Json;
using TsNet.Control.Netmap;
using TsNet.Control.Protocol;
using TsNet.Tool.Cli;
using TsNet.Tool.Commands;

namespace TsNet.Tests.Tool;

/// <summary>
/// <c>tsnet up --login-server</c> once the (scripted) server has sent the first netmap: the ready line with the
/// server's addresses and <c>name=</c>; a <c>--forward</c> to a peer named in the netmap is published, one to a name
/// not on the tailnet is logged as an error of that mapping while the node keeps running (exit 0 on stop).
/// </summary>
public sealed class UpControlRunningTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task FirstNetmap_ReadyLineWithName_ForwardToAnUnknownNameIsLoggedNotFatal()
    {
        var peerKey = WireGuardKey.Generate().PublicKey;
        var session = new ScriptedControlSession((context, observer) =>
            observer.OnNetmapAsync(FirstNetmap(context.State.NodeKey.PublicKey, context.DiscoPublicKey, peerKey), CancellationToken.None).AsTask());
        using var stop = new CancellationTokenSource();
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter();
        var syncOut = TextWriter.Synchronized(stdout);
        var syncError = TextWriter.Synchronized(stderr);
        var command = new UpCommand(options => options.TestHooks.ControlSessionFactory = session.Factory);
        string Read(TextWriter writer, StringWriter inner)
        {
            lock (writer)
            {
                return inner.ToString();
            }
        }

        var run = command.RunAsync(
            ArgumentParser.Parse(command.Spec, ["--login-server", "http://control.test", "--ephemeral", "--hostname", "cli1", "--echo", "7", "--forward", "tcp:127.0.0.1:0=db:80", "--forward", "tcp:127.0.0.1:0=nosuch:80"]),
            new CliConsole(new StringReader(string.Empty), syncOut, syncError),
            stop.Token);
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); !Read(syncOut, stdout).Contains('\n') && !run.IsCompleted; await Task.Delay(20))
        {
            clock.Elapsed.Should().BeLessThan(Bound, "the ready line comes once the first netmap is applied; stderr: " + Read(syncError, stderr));
        }

        run.IsCompleted.Should().BeFalse("an unknown --forward name does not stop the node; stderr: " + Read(syncError, stderr));
        var nodeKey = session.Context!.State.NodeKey.PublicKey;
        Read(syncOut, stdout).Should().MatchRegex($"^ready address=100\\.64\\.0\\.5,fd7a:115c:a1e0::5 port=[0-9]+ publickey={System.Text.RegularExpressions.Regex.Escape(nodeKey.ToString())} name=cli1\\.tail\\.test\n$");
        var errors = Read(syncError, stderr).Split('\n').Where(l => l.Contains(" fail ", StringComparison.Ordinal)).ToList();
        errors.Should().ContainSingle().Which.Should().Contain("--forward tcp:127.0.0.1:0=nosuch:80 is not published: 'nosuch' is neither an IP address nor the name of a peer")
            .And.Contain("the node keeps running").And.NotContain("(Parameter");
        // The running line is logged just after the ready line is printed: wait for it rather than race it.
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); !Read(syncError, stderr).Contains("SIGINT/SIGTERM stops it", StringComparison.Ordinal); await Task.Delay(20))
        {
            clock.Elapsed.Should().BeLessThan(Bound, "the node logs that it runs; stderr: " + Read(syncError, stderr));
        }

        Read(syncError, stderr).Should().Contain("with 2 services;", "the echo and the forward to db run");

        await stop.CancelAsync();
        (await run.WaitAsync(Bound)).Should().Be(0);
    }

    /// <summary>A full map as a server sends it: the node itself (cli1, 100.64.0.5) and one peer, db (100.64.0.9).</summary>
    private static NetmapUpdate FirstNetmap(WireGuardKey self, DiscoKey selfDisco, WireGuardKey peer)
    {
        string Node(int id, string name, WireGuardKey key, string disco) => $$$"""
            {"ID":{{{id}}},"Name":"{{{name}}}.tail.test.","User":{{{id}}},"Key":"{{{ControlKeyText.Format(ControlKeyText.NodePublicPrefix, key)}}}",
             "DiscoKey":"{{{disco}}}","KeyExpiry":"0001-01-01T00:00:00Z",
             "Addresses":["100.64.0.{{{id}}}/32","fd7a:115c:a1e0::{{{id}}}/128"],"Endpoints":["127.0.0.1:9"],
             "DERP":"127.3.3.40:1","Online":true,"Hostinfo":{"Hostname":"{{{name}}}"}}
            """;
        var json = $$$"""
            {"Node":{{{Node(5, "cli1", self, ControlKeyText.Format(selfDisco))}}},"Domain":"tail.test",
             "Peers":[{{{Node(9, "db", peer, ControlKeyText.Format(DiscoKey.Generate().PublicKey))}}}],
             "UserProfiles":[{"ID":5,"LoginName":"cli1@example.com","DisplayName":"Cli"},{"ID":9,"LoginName":"db@example.com","DisplayName":"Db"}],
             "PacketFilter":[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]}
            """;
        var response = JsonSerializer.Deserialize(json, ControlJsonContext.Default.MapResponse)!;
        return new NetmapFolder(TimeProvider.System).Apply(response) ?? throw new InvalidOperationException("the map changed nothing");
    }
}
