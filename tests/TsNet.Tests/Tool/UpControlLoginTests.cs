using TsNet.Tool.Cli;
using TsNet.Tool.Commands;

namespace TsNet.Tests.Tool;

/// <summary>
/// <c>tsnet up --login-server</c> driven by a scripted control session (no server): the <c>login url=</c> line while
/// an interactive login is pending and a clean exit 0 when stopped then; a refused login exits 1 with the server's
/// message on one line; the stdout lines' order.
/// </summary>
public sealed class UpControlLoginTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly Uri LoginUrl = new("http://127.0.0.1:9/auth/a1b2c3");

    [Fact]
    public async Task InteractiveLogin_PrintsOneLoginUrlLine_KeepsWaiting_StopsCleanlyOnCancel()
    {
        var session = new ScriptedControlSession((_, observer) =>
        {
            observer.OnLoginRequired(LoginUrl);
            return Task.CompletedTask;
        });
        using var stop = new CancellationTokenSource();
        var console = new SharedConsole();

        var run = RunAsync(session, console, stop.Token, "--login-server", "http://127.0.0.1:9", "--ephemeral", "--hostname", "cli1");
        // The login line goes to stdout first, the log line to stderr just after: wait for both.
        await WaitUntilAsync(() => (console.Out.Contains('\n') && console.Error.Contains("waiting for an interactive login")) || run.IsCompleted);

        run.IsCompleted.Should().BeFalse($"the node waits for the login; stderr: {console.Error}");
        await session.Started.Task.WaitAsync(Bound);
        console.Out.Should().Be($"login url={LoginUrl.AbsoluteUri}\n");
        session.Context!.Hostname.Should().Be("cli1");
        session.Context.Ephemeral.Should().BeTrue();
        session.Context.ControlUrl.Should().Be(new Uri("http://127.0.0.1:9"));
        console.Error.Should().Contain($"waiting for an interactive login: open {LoginUrl.AbsoluteUri}");

        await stop.CancelAsync();
        (await run.WaitAsync(Bound)).Should().Be(0, "SIGINT/SIGTERM while waiting for a login is a clean stop");
        console.Out.Should().Be($"login url={LoginUrl.AbsoluteUri}\n", "nothing else on stdout: the node never became ready");
        await session.Disposed.Task.WaitAsync(Bound);
    }

    [Fact]
    public async Task RefusedLogin_Exit1_TheServersMessageOnOneLine_NoStackTrace()
    {
        var session = new ScriptedControlSession((_, observer) =>
        {
            observer.OnLoginRefused("invalid key: unable to validate API key");
            return Task.CompletedTask;
        });
        var console = new SharedConsole();

        var exitCode = await RunAsync(session, console, CancellationToken.None, "--login-server", "http://127.0.0.1:9", "--ephemeral", "--authkey", "tskey-bad").WaitAsync(Bound);

        exitCode.Should().Be(1);
        session.Context!.AuthKey.Should().Be("tskey-bad", "--authkey reaches the session");
        console.Out.Should().BeEmpty();
        var lines = console.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains(" info ", StringComparison.Ordinal)).ToList();
        lines.Should().Equal(["tsnet up: http://127.0.0.1:9/ refused the login: invalid key: unable to validate API key"], "one line with the server's words: no stack trace, no second report");
    }

    [Fact]
    public void Output_PrintsEachLoginUrlOnce_AndNoneAfterReady()
    {
        var stdout = new StringWriter();
        var output = new UpOutput(new CliConsole(new StringReader(string.Empty), stdout, new StringWriter()));
        var second = new Uri("http://127.0.0.1:9/auth/d4e5f6");

        output.TryWriteLoginUrl(LoginUrl).Should().BeTrue();
        output.TryWriteLoginUrl(LoginUrl).Should().BeFalse("the same pending login is announced once");
        output.TryWriteLoginUrl(second).Should().BeTrue("a new login URL replaces the old one");
        output.WriteReady("ready address=100.64.0.1 port=1 publickey=k name=cli1.tail.test", ["socks5 127.0.0.1:1080 username=tsnet password=p"]);
        output.TryWriteLoginUrl(new Uri("http://127.0.0.1:9/auth/late")).Should().BeFalse("a late event after ready prints nothing");

        stdout.ToString().Should().Be(
            $"login url={LoginUrl.AbsoluteUri}\nlogin url={second.AbsoluteUri}\nready address=100.64.0.1 port=1 publickey=k name=cli1.tail.test\nsocks5 127.0.0.1:1080 username=tsnet password=p\n");
    }

    private static Task<int> RunAsync(ScriptedControlSession session, SharedConsole console, CancellationToken cancellationToken, params string[] args)
    {
        var command = new UpCommand(options => options.TestHooks.ControlSessionFactory = session.Factory);
        return command.RunAsync(ArgumentParser.Parse(command.Spec, args), console.Console, cancellationToken);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); !condition(); await Task.Delay(20))
        {
            clock.Elapsed.Should().BeLessThan(Bound, "the condition should hold by then");
        }
    }

    /// <summary>stdout and stderr as thread-safe writers that a test can read while the command runs.</summary>
    private sealed class SharedConsole
    {
        private readonly StringWriter _out = new();
        private readonly StringWriter _error = new();
        private readonly TextWriter _syncOut;
        private readonly TextWriter _syncError;

        public SharedConsole()
        {
            _out.NewLine = "\n";
            _syncOut = TextWriter.Synchronized(_out);
            _syncError = TextWriter.Synchronized(_error);
            Console = new CliConsole(new StringReader(string.Empty), _syncOut, _syncError);
        }

        public CliConsole Console { get; }

        // TextWriter.Synchronized locks on the wrapper: reading under the same lock sees whole writes.
        public string Out
        {
            get
            {
                lock (_syncOut)
                {
                    return _out.ToString();
                }
            }
        }

        public string Error
        {
            get
            {
                lock (_syncError)
                {
                    return _error.ToString();
                }
            }
        }
    }
}
