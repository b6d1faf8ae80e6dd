using TsNet.Tool.Cli;

namespace TsNet.Tests.Tool;

/// <summary>The <c>tsnet</c> command line in-process: exit codes, usage on stderr, genkey/pubkey, config errors.</summary>
public sealed class CliTests : IDisposable
{
    // RFC 7748 §6.1 (also in the shared WireGuard doc §10.1): Alice's private key and its public key.
    private const string AlicePrivateHex = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    private const string AlicePublicHex = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";

    private readonly string _dir = Directory.CreateTempSubdirectory("tsnet-cli-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task NoArguments_PrintsUsageOnStderr_Exit2()
    {
        var run = await RunAsync();

        run.ExitCode.Should().Be(2);
        run.Out.Should().BeEmpty();
        run.Error.Should().Contain("usage: tsnet <command>").And.Contain("demo").And.Contain("up").And.Contain("relay").And.Contain("genkey").And.Contain("pubkey");
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public async Task TopLevelHelp_OnStdout_Exit0(string help)
    {
        var run = await RunAsync(help);

        run.ExitCode.Should().Be(0);
        run.Out.Should().StartWith("usage: tsnet <command>");
        run.Error.Should().BeEmpty();
    }

    [Fact]
    public async Task UnknownCommand_Exit2()
    {
        var run = await RunAsync("bogus", "--port", "1");

        run.ExitCode.Should().Be(2);
        run.Error.Should().StartWith("tsnet: unknown command 'bogus'");
    }

    [Theory]
    [InlineData("demo")]
    [InlineData("up")]
    [InlineData("relay")]
    [InlineData("genkey")]
    [InlineData("pubkey")]
    public async Task EveryCommand_HasHelp(string command)
    {
        var run = await RunAsync(command, "--help");

        run.ExitCode.Should().Be(0);
        run.Out.Should().StartWith($"usage: tsnet {command}").And.Contain("-h, --help");
    }

    [Theory]
    [InlineData("genkey", "--bogus")]
    [InlineData("up", "--config")]
    [InlineData("up", "--http", "80", "--www", "/tmp")]
    [InlineData("up", "--config", "x.conf", "--http", "80")]
    [InlineData("up", "--config", "x.conf", "--www", "/tmp")]
    [InlineData("up", "--config", "x.conf", "--http", "99999", "--www", "/tmp")]
    [InlineData("up", "--config", "x.conf", "--echo", "7", "--echo", "7")]
    [InlineData("up", "--config", "x.conf", "--socks5", "0.0.0.0:1080")]
    [InlineData("up", "--config", "x.conf", "--socks5", "192.0.2.1:1080")]
    [InlineData("up", "--config", "x.conf", "--socks5", "localhost:1080")]
    [InlineData("up", "--config", "x.conf", "--socks5", "127.0.0.1")]
    [InlineData("up", "--config", "x.conf", "--socks5-password", "pw")]
    [InlineData("up", "--config", "x.conf", "--forward", "tcp:127.0.0.1:1")]
    [InlineData("up", "--config", "x.conf", "--forward", "sctp:127.0.0.1:1=100.64.0.1:2")]
    [InlineData("up", "--config", "x.conf", "--publish", "tcp:1=127.0.0.1:99999")]
    [InlineData("up", "--config", "x.conf", "--publish", "tcp:127.0.0.1:1=127.0.0.1:2")]
    [InlineData("demo", "--timeout", "soon")]
    public async Task BadFlags_PrintUsageOnStderr_Exit2(params string[] args)
    {
        var run = await RunAsync(args);

        run.ExitCode.Should().Be(2);
        run.Error.Should().StartWith($"tsnet {args[0]}: ").And.Contain($"usage: tsnet {args[0]}");
        run.Out.Should().BeEmpty();
    }

    [Fact]
    public async Task GenKey_PrintsAClampedKey_WhosePubKeyTheToolDerives()
    {
        var run = await RunAsync("genkey");

        run.ExitCode.Should().Be(0);
        var text = run.Out.TrimEnd('\n');
        text.Should().HaveLength(44).And.EndWith("=");
        var key = WireGuardKey.Parse(text);
        (key.Bytes[0] & 7).Should().Be(0, "clamped like wg genkey");
        (key.Bytes[31] & 0xC0).Should().Be(0x40);

        var pub = await RunWithInputAsync(text + "\n", "pubkey");
        pub.ExitCode.Should().Be(0);
        pub.Out.Should().Be(key.PublicKey + "\n");
    }

    [Fact]
    public async Task PubKey_OfRfc7748Alice_IsHerPublicKey()
    {
        var privateKey = Convert.ToBase64String(Convert.FromHexString(AlicePrivateHex));
        var expected = Convert.ToBase64String(Convert.FromHexString(AlicePublicHex));

        var run = await RunWithInputAsync(privateKey + "\n", "pubkey");

        run.ExitCode.Should().Be(0);
        run.Out.Should().Be(expected + "\n");
        run.Error.Should().BeEmpty();
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a key\n")]
    [InlineData("AAAA\n")]
    [InlineData("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=dwdt\n")]
    public async Task PubKey_OfBadInput_Exit1WithMessageOnStderr(string stdin)
    {
        var run = await RunWithInputAsync(stdin, "pubkey");

        run.ExitCode.Should().Be(1);
        run.Out.Should().BeEmpty();
        run.Error.Should().StartWith("tsnet pubkey: ");
    }

    [Fact]
    public async Task PubKey_OfHugeInput_Exit1WithoutReadingItAll()
    {
        var run = await RunWithInputAsync(new string('A', 1_000_000), "pubkey");

        run.ExitCode.Should().Be(1);
    }

    [Fact]
    public async Task Up_MissingConfigFile_Exit2()
    {
        var path = Path.Combine(_dir, "missing.conf");

        var run = await RunAsync("up", "--config", path);

        run.ExitCode.Should().Be(2);
        run.Error.Should().Be($"{path}: no such file\n");
    }

    [Fact]
    public async Task Up_BadConfig_Exit2WithFileAndLine()
    {
        var path = Path.Combine(_dir, "bad.conf");
        await File.WriteAllTextAsync(path, "[Interface]\n# comment\nPrivateKey = not-a-key\n");

        var run = await RunAsync("up", "--config", path);

        run.ExitCode.Should().Be(2);
        run.Error.Should().StartWith($"{path}:3: ").And.Contain("PrivateKey");
        run.Out.Should().BeEmpty("nothing is ready");
    }

    [Fact]
    public async Task Up_ConfigWithoutLineProblem_Exit2WithFile()
    {
        var path = Path.Combine(_dir, "empty.conf");
        await File.WriteAllTextAsync(path, "[Interface]\nAddress = 100.64.0.2/32\n");

        var run = await RunAsync("up", "--config", path);

        run.ExitCode.Should().Be(2);
        run.Error.Should().StartWith($"{path}: ").And.Contain("PrivateKey");
    }

    [Fact]
    public async Task Up_MissingWwwDirectory_Exit2()
    {
        var path = Path.Combine(_dir, "ok.conf");
        await File.WriteAllTextAsync(path, $"[Interface]\nPrivateKey = {WireGuardKey.Generate()}\nAddress = 100.64.0.2/32\n");

        var run = await RunAsync("up", "--config", path, "--http", "80", "--www", Path.Combine(_dir, "nope"));

        run.ExitCode.Should().Be(2);
        run.Error.Should().Contain("no such directory");
    }

    [Fact]
    public async Task Up_UdpPortTaken_Exit1()
    {
        using var taken = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Any, 0));
        var port = ((System.Net.IPEndPoint)taken.Client.LocalEndPoint!).Port;
        var path = Path.Combine(_dir, "taken.conf");
        await File.WriteAllTextAsync(path, $"[Interface]\nPrivateKey = {WireGuardKey.Generate()}\nAddress = 100.64.0.2/32\nListenPort = {port}\n");

        var run = await RunAsync("up", "--config", path);

        run.ExitCode.Should().Be(1, "a runtime failure, not a usage error");
        run.Error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains(" info ", StringComparison.Ordinal)).Should().Equal(
            [$"tsnet up: UDP port {port} (ListenPort in {path}) is already in use: stop the program using it, or set another ListenPort in {path} (0 picks a free port)."],
            "one line with the cause and what to do: no stack trace, no second report of the start failure, no dispose warning");
        run.Out.Should().BeEmpty();
    }

    [Fact]
    public async Task Up_UdpPortTaken_Verbose_ShowsTheStackTrace()
    {
        using var taken = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Any, 0));
        var port = ((System.Net.IPEndPoint)taken.Client.LocalEndPoint!).Port;
        var path = Path.Combine(_dir, "taken.conf");
        await File.WriteAllTextAsync(path, $"[Interface]\nPrivateKey = {WireGuardKey.Generate()}\nAddress = 100.64.0.2/32\nListenPort = {port}\n");

        var run = await RunAsync("up", "--config", path, "--verbose");

        run.ExitCode.Should().Be(1);
        run.Error.Should().Contain($"tsnet up: UDP port {port} (ListenPort in {path}) is already in use").And.Contain("   at System.Net.Sockets.Socket");
        run.Error.Should().NotContain("being disposed", "the start failure was reported to the caller");
    }

    [Fact]
    public async Task Up_ForwardToAnUnknownPeerName_Exit2_OneLineNamingTheMapping()
    {
        var path = Path.Combine(_dir, "names.conf");
        await File.WriteAllTextAsync(path, $"[Interface]\nPrivateKey = {WireGuardKey.Generate()}\nAddress = 100.64.0.2/32\n\n[Peer]\n# Name = db\nPublicKey = {WireGuardKey.Generate().PublicKey}\nAllowedIPs = 100.64.0.9/32\n");

        var run = await RunAsync("up", "--config", path, "--forward", "tcp:127.0.0.1:0=dbx:80");

        run.ExitCode.Should().Be(2, "a target that names no configured peer is a configuration error");
        var lines = run.Error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains(" info ", StringComparison.Ordinal)).ToList();
        lines.Should().ContainSingle("one line for the error, no stack trace").Which.Should()
            .StartWith("tsnet up: --forward tcp:127.0.0.1:0=dbx:80: 'dbx' is neither an IP address nor the name of a peer")
            .And.Contain("peer names: db").And.Contain($"Name a peer of {path}").And.NotContain("(Parameter");
        run.Out.Should().BeEmpty();
    }

    [Fact]
    public async Task Up_RunsUntilCancelled_PrintsOneReadyLine_WarnsOnStderr_Exit0()
    {
        var path = Path.Combine(_dir, "wg0.conf");
        var key = WireGuardKey.Generate();
        await File.WriteAllTextAsync(path, $"[Interface]\nPrivateKey = {key}\nAddress = fd7a:115c:a1e0::2/128, 100.64.0.2/32\nDNS = 1.1.1.1\n");
        using var stop = new CancellationTokenSource();
        var stdoutText = new StringWriter();
        var stdout = TextWriter.Synchronized(stdoutText); // its methods lock on the wrapper: so can the reader below
        var stderr = new StringWriter();

        var run = TsNetCli.RunAsync(["up", "--config", path, "--echo", "7", "--udp-echo", "7", "--http", "80", "--www", _dir, "--forward", "tcp:127.0.0.1:0=100.64.0.1:80", "--publish", "udp:5353=127.0.0.1:5353", "--publish", "tcp:8080=[::1]:8080"], new CliConsole(new StringReader(string.Empty), stdout, TextWriter.Synchronized(stderr)), stop.Token);
        string Written()
        {
            lock (stdout)
            {
                return stdoutText.ToString();
            }
        }

        for (var clock = System.Diagnostics.Stopwatch.StartNew(); !Written().EndsWith('\n') && !run.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(30);)
        {
            await Task.Delay(20);
        }

        await stop.CancelAsync();
        var exitCode = await run.WaitAsync(TimeSpan.FromSeconds(30));

        exitCode.Should().Be(0);
        var lines = stdoutText.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().ContainSingle();
        lines[0].Should().MatchRegex($"^ready address=100\\.64\\.0\\.2,fd7a:115c:a1e0::2 port=[0-9]+ publickey={System.Text.RegularExpressions.Regex.Escape(key.PublicKey.ToString())}$");
        stderr.ToString().Should().Contain($"{path}:4: warning: DNS")
            .And.Contain("with 6 services;", "http, echo, udp-echo and each of the three mappings count");
    }

    [Fact]
    public async Task Up_WithSocks5_PrintsTheSocks5Line_AndTheProxyAnswers()
    {
        var path = Path.Combine(_dir, "socks.conf");
        await File.WriteAllTextAsync(path, $"[Interface]\nPrivateKey = {WireGuardKey.Generate()}\nAddress = 100.64.0.2/32\n");
        using var stop = new CancellationTokenSource();
        var stdoutText = new StringWriter();
        var stdout = TextWriter.Synchronized(stdoutText);
        var run = TsNetCli.RunAsync(["up", "--config", path, "--socks5", "127.0.0.1:0", "--socks5-password", "s3cret"], new CliConsole(new StringReader(string.Empty), stdout, TextWriter.Synchronized(new StringWriter())), stop.Token);
        string[] Lines()
        {
            lock (stdout)
            {
                return stdoutText.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }
        }

        for (var clock = System.Diagnostics.Stopwatch.StartNew(); Lines().Length < 2 && !run.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(30);)
        {
            await Task.Delay(20);
        }

        var lines = Lines();
        lines.Should().HaveCount(2);
        lines[0].Should().StartWith("ready address=100.64.0.2 ");
        var match = System.Text.RegularExpressions.Regex.Match(lines[1], "^socks5 127\\.0\\.0\\.1:([0-9]+) username=tsnet password=s3cret$");
        match.Success.Should().BeTrue(lines[1]);

        // A SOCKS5 greeting offering username/password is answered with method 0x02.
        using (var client = new System.Net.Sockets.TcpClient())
        {
            await client.ConnectAsync(System.Net.IPAddress.Loopback, int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            var stream = client.GetStream();
            await stream.WriteAsync(new byte[] { 5, 1, 2 });
            var reply = new byte[2];
            await stream.ReadExactlyAsync(reply).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            reply.Should().Equal(5, 2);
        }

        await stop.CancelAsync();
        (await run.WaitAsync(TimeSpan.FromSeconds(30))).Should().Be(0);
    }

    [Fact]
    public async Task Up_ForwardToABusyHostPort_Exit1NamingTheMapping()
    {
        using var busy = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        busy.Start();
        var port = ((System.Net.IPEndPoint)busy.LocalEndpoint).Port;
        var path = Path.Combine(_dir, "fwd.conf");
        await File.WriteAllTextAsync(path, $"[Interface]\nPrivateKey = {WireGuardKey.Generate()}\nAddress = 100.64.0.2/32\n");

        var run = await RunAsync("up", "--config", path, "--publish", "tcp:8080=127.0.0.1:9", "--forward", $"tcp:127.0.0.1:{port}=100.64.0.1:80");

        run.ExitCode.Should().Be(1, "a bind failure is a runtime failure");
        run.Error.Should().Contain("failed starting the services").And.Contain($"127.0.0.1:{port}");
        run.Out.Should().BeEmpty("the node never became ready");
    }

    private static Task<CliRun> RunAsync(params string[] args) => RunWithInputAsync(string.Empty, args);

    private static async Task<CliRun> RunWithInputAsync(string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exitCode = await TsNetCli.RunAsync(args, new CliConsole(new StringReader(stdin), stdout, stderr), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        return new CliRun(exitCode, stdout.ToString(), stderr.ToString());
    }

    private sealed record CliRun(int ExitCode, string Out, string Error);
}
