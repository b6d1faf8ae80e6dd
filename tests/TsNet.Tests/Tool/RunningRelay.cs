using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using TsNet.Tool.Cli;

namespace TsNet.Tests.Tool;

/// <summary><c>tsnet relay ...</c> running in-process until disposed; parses the lines it prints on stdout.</summary>
internal sealed partial class RunningRelay : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stop = new();
    private readonly StringWriter _stdoutText = new();
    private readonly TextWriter _stdout;
    private readonly StringWriter _stderrText = new();

    private RunningRelay(string[] args)
    {
        _stdout = TextWriter.Synchronized(_stdoutText);
        Run = TsNetCli.RunAsync(args, new CliConsole(new StringReader(string.Empty), _stdout, TextWriter.Synchronized(_stderrText)), _stop.Token);
    }

    public Task<int> Run { get; }

    public int Port { get; private set; }

    public string Disco { get; private set; } = string.Empty;

    public IPEndPoint? Allocate { get; private set; }

    public string[] Lines
    {
        get
        {
            lock (_stdout)
            {
                return _stdoutText.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_stderrText)
            {
                return _stderrText.ToString();
            }
        }
    }

    /// <summary>Starts <c>tsnet relay</c> with <paramref name="args"/> and waits for its stdout lines.</summary>
    public static async Task<RunningRelay> StartAsync(params string[] args)
    {
        var relay = new RunningRelay(["relay", .. args]);
        var expected = args.Contains("--allocate") ? 2 : 1;
        for (var clock = Stopwatch.StartNew(); relay.Lines.Length < expected && !relay.Run.IsCompleted && clock.Elapsed < Deadline;)
        {
            await Task.Delay(10);
        }

        var lines = relay.Lines;
        lines.Should().HaveCount(expected, "the relay prints its lines once listening; stderr: " + relay.Error);
        var match = ReadyLine().Match(lines[0]);
        match.Success.Should().BeTrue(lines[0]);
        relay.Port = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        relay.Disco = match.Groups[2].Value;
        if (expected == 2)
        {
            var allocate = AllocateLine().Match(lines[1]);
            allocate.Success.Should().BeTrue(lines[1]);
            relay.Allocate = IPEndPoint.Parse(allocate.Groups[1].Value);
        }

        return relay;
    }

    /// <summary>Stops the relay like SIGINT does; returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        return await Run.WaitAsync(Deadline);
    }

    public async ValueTask DisposeAsync()
    {
        if (!Run.IsCompleted)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }

    [GeneratedRegex("^relay port=([0-9]+) disco=(discokey:[0-9a-f]{64})$")]
    private static partial Regex ReadyLine();

    [GeneratedRegex("^allocate http://(.+)/v0/relay/endpoint$")]
    private static partial Regex AllocateLine();
}
