using System.Globalization;

namespace TsNet.InteropTests.Harness;

/// <summary>
/// <c>curl</c> run inside a <see cref="WireGuardGoPeer"/>'s namespace: the Linux kernel's TCP is the client. Bodies
/// always go to files (never through the test's pipes), the transfer figures come from <c>--write-out</c>, and
/// <c>-v</c> puts the connect and header exchange into the logged stderr.
/// </summary>
public static class LinuxCurl
{
    private const string WriteOut = "\n%{http_code} %{size_download} %{size_upload} %{time_connect} %{time_total}\n";

    /// <summary><c>curl URL -o OUTPUT</c>: downloads into <paramref name="outputPath"/>.</summary>
    public static Task<CurlResult> GetAsync(WireGuardGoPeer peer, string url, string outputPath, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        RunAsync(peer, url, new[] { "-o", outputPath }, timeout, cancellationToken);

    /// <summary>
    /// <c>curl -T INPUT URL -o RESPONSE</c>: uploads <paramref name="inputPath"/> with PUT (Content-Length; curl sends
    /// <c>Expect: 100-continue</c> for bodies above 1 MiB) and keeps the response body in <paramref name="responsePath"/>.
    /// </summary>
    public static Task<CurlResult> PutFileAsync(WireGuardGoPeer peer, string url, string inputPath, string responsePath, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        RunAsync(peer, url, new[] { "-T", inputPath, "-o", responsePath }, timeout, cancellationToken);

    /// <summary>
    /// Runs <c>curl -sS -v -g --connect-timeout C --max-time T [ARGS] URL</c> in the namespace; the process itself is
    /// bounded by <paramref name="timeout"/> + 10 s. Without <c>-o</c> in <paramref name="arguments"/> the body is discarded.
    /// </summary>
    public static Task<CurlResult> RunAsync(WireGuardGoPeer peer, string url, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return RunAsync(peer.Runner, peer.Namespace, url, arguments, timeout, cancellationToken);
    }

    /// <summary>As above in namespace <paramref name="netns"/>, or in the root namespace when it is null (the harness self-test).</summary>
    public static async Task<CurlResult> RunAsync(ProcessRunner runner, string? netns, string url, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(arguments);
        if (InteropEnvironment.ResolveTool("curl") is null)
        {
            throw new InvalidOperationException("curl is missing (apt-get install curl)");
        }

        var seconds = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
        var args = new List<string>
        {
            "-sS", "-v", "-g",
            "--connect-timeout", Math.Min(seconds, 10).ToString(CultureInfo.InvariantCulture),
            "--max-time", seconds.ToString(CultureInfo.InvariantCulture),
            "-w", WriteOut,
        };
        if (!arguments.Contains("-o"))
        {
            args.AddRange(new[] { "-o", "/dev/null" });
        }

        args.AddRange(arguments);
        args.Add(url);
        var result = netns is null
            ? await runner.RunAsync("curl", args, TimeSpan.FromSeconds(seconds + 10), cancellationToken: cancellationToken)
            : await runner.RunAsync("ip", new[] { "netns", "exec", netns, "curl" }.Concat(args).ToArray(), TimeSpan.FromSeconds(seconds + 10), cancellationToken: cancellationToken);
        return CurlResult.Parse(result);
    }
}

/// <summary>One curl run: exit code (7 = could not connect, 28 = timeout), HTTP status, byte counts, times.</summary>
public sealed record CurlResult(CommandResult Command, int HttpCode, long DownloadBytes, long UploadBytes, double ConnectSeconds, double TotalSeconds)
{
    /// <summary>curl's exit code (-1 when it did not run or was killed).</summary>
    public int ExitCode => Command.TimedOut ? -1 : Command.ExitCode;

    /// <summary>curl's stderr (with <c>-v</c>: the connect attempt and the headers).</summary>
    public string StandardError => Command.StandardError;

    /// <summary>Exit 0 and HTTP 2xx.</summary>
    public bool Succeeded => Command.Succeeded && HttpCode is >= 200 and < 300;

    /// <summary>Average download rate in Mbit/s (0 when nothing was downloaded).</summary>
    public double DownloadMbps => TotalSeconds > 0 ? DownloadBytes * 8 / TotalSeconds / 1e6 : 0;

    /// <summary>Average upload rate in Mbit/s.</summary>
    public double UploadMbps => TotalSeconds > 0 ? UploadBytes * 8 / TotalSeconds / 1e6 : 0;

    /// <summary>Reads the <c>--write-out</c> line (the last non-empty stdout line).</summary>
    public static CurlResult Parse(CommandResult command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var line = command.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? string.Empty;
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            return new CurlResult(command, 0, 0, 0, 0, 0);
        }

        static double Number(string text) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : 0;
        return new CurlResult(
            command,
            (int)Number(fields[0]),
            (long)Number(fields[1]),
            (long)Number(fields[2]),
            Number(fields[3]),
            Number(fields[4]));
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"curl exit {ExitCode}, HTTP {HttpCode}, down {DownloadBytes} B, up {UploadBytes} B, connect {ConnectSeconds:0.000} s, total {TotalSeconds:0.000} s\n{Command}";
}
