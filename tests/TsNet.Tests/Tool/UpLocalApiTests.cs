using TsNet.Tool.Cli;
using TsNet.Tool.Commands;

namespace TsNet.Tests.Tool;

/// <summary>
/// <c>tsnet up</c> and its local API: a <c>--socket</c> it cannot serve fails the command (exit 1); a default path it
/// cannot serve is a warning and the node runs on; the API answers while the node runs and its socket goes at the stop.
/// </summary>
public sealed class UpLocalApiTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly string _directory = Directory.CreateTempSubdirectory("tsnet-up-localapi-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task SocketOnARegularFile_Exit1_FileKept()
    {
        var socket = Path.Combine(_directory, "taken");
        await File.WriteAllTextAsync(socket, "keep");
        using var bound = new CancellationTokenSource(Bound);

        var (run, output, error) = Start(["--config", await ConfigAsync(), "--socket", socket], name => null, bound.Token);
        var exitCode = await run.WaitAsync(bound.Token);

        exitCode.Should().Be(ExitCodes.Failure, error());
        error().Should().Contain($"tsnet up: failed starting the local status API: {socket} exists and is not a socket; remove it or choose another --socket");
        output().Should().BeEmpty("the node never got ready");
        (await File.ReadAllTextAsync(socket)).Should().Be("keep");
    }

    [Fact]
    public async Task DefaultPathUnusable_Warns_NodeRuns()
    {
        // $XDG_RUNTIME_DIR names a regular file: no socket can be made under it.
        var notADirectory = Path.Combine(_directory, "file");
        await File.WriteAllTextAsync(notADirectory, string.Empty);
        using var bound = new CancellationTokenSource(Bound);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(bound.Token);

        var (run, output, error) = Start(["--config", await ConfigAsync()], name => name == "XDG_RUNTIME_DIR" ? notADirectory : null, stop.Token);
        await WaitForReadyAsync(run, output, error, bound.Token);

        error().Should().Contain("no local status API (").And.Contain("the node runs on");
        await stop.CancelAsync();
        (await run.WaitAsync(bound.Token)).Should().Be(ExitCodes.Success);
    }

    [Fact]
    public async Task DefaultPathFromXdg_Served_ThenDeletedOnStop()
    {
        using var bound = new CancellationTokenSource(Bound);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(bound.Token);
        Func<string, string?> environment = name => name == "XDG_RUNTIME_DIR" ? _directory : null;
        var socket = Path.Combine(_directory, "tsnet.sock");

        var (run, output, error) = Start(["--config", await ConfigAsync()], environment, stop.Token);
        await WaitForReadyAsync(run, output, error, bound.Token);

        var status = new StringWriter { NewLine = "\n" };
        var statusError = new StringWriter { NewLine = "\n" };
        var command = new StatusCommand(environment);
        var exitCode = await command.RunAsync(ArgumentParser.Parse(command.Spec, ["--json"]), new CliConsole(TextReader.Null, status, statusError), bound.Token);
        exitCode.Should().Be(ExitCodes.Success, statusError.ToString());
        status.ToString().Should().Contain("\"Addresses\": [\n    \"100.64.0.7\"\n  ]");

        await stop.CancelAsync();
        (await run.WaitAsync(bound.Token)).Should().Be(ExitCodes.Success);
        File.Exists(socket).Should().BeFalse("the socket is deleted when tsnet up stops");
    }

    private async Task<string> ConfigAsync()
    {
        var path = Path.Combine(_directory, "wg0.conf");
        await File.WriteAllTextAsync(path, $"[Interface]\nPrivateKey = {WireGuardKey.Generate()}\nAddress = 100.64.0.7/32\nListenPort = 0\n");
        return path;
    }

    private static (Task<int> Run, Func<string> Output, Func<string> Error) Start(string[] args, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        var (output, outputText) = Writer();
        var (error, errorText) = Writer();
        var command = new UpCommand(environment: environment);
        var run = Task.Run(() => command.RunAsync(ArgumentParser.Parse(command.Spec, args), new CliConsole(TextReader.Null, output, error), cancellationToken));
        string Read(TextWriter writer, StringWriter text)
        {
            lock (writer)
            {
                return text.ToString();
            }
        }

        return (run, () => Read(output, outputText), () => Read(error, errorText));
    }

    /// <summary>A thread-safe writer (the node logs from its own threads) and the text behind it.</summary>
    private static (TextWriter Writer, StringWriter Text) Writer()
    {
        var text = new StringWriter { NewLine = "\n" };
        return (TextWriter.Synchronized(text), text);
    }

    private static async Task WaitForReadyAsync(Task<int> run, Func<string> output, Func<string> error, CancellationToken cancellationToken)
    {
        while (!output().Contains("ready ", StringComparison.Ordinal))
        {
            run.IsCompleted.Should().BeFalse("tsnet up keeps running until stopped; stderr: " + error());
            await Task.Delay(20, cancellationToken);
        }
    }
}
