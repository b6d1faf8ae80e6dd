using System.Globalization;
using System.Text.Json;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// Host <c>curl</c> reaching a tailnet HTTP service (<see cref="MiniHttpServer"/>'s <c>GET /bytes/N?seed=S</c> and
/// <c>POST /sink</c>) through a <see cref="Tailscaled"/>'s SOCKS5 server by DNS name
/// (<c>--socks5-hostname</c>: tailscaled resolves the name). Bodies go through files in <paramref name="directory"/>;
/// a file is deleted once its digest is taken (a kept 50 MB body helps nobody; the digest and the first mismatch are
/// in the result).
/// </summary>
/// <param name="via">The daemon whose SOCKS5 server carries the request.</param>
/// <param name="runner">Runs and logs curl.</param>
/// <param name="directory">Where bodies are written while a transfer runs.</param>
/// <param name="stopping">Cancels every transfer (the rig's end, so no curl outlives a failed test).</param>
public sealed class SocksHttpClient(Tailscaled via, ProcessRunner runner, string directory, CancellationToken stopping = default)
{
    private int _serial;

    /// <summary>The daemon whose SOCKS5 server carries the requests.</summary>
    public Tailscaled Via { get; } = via ?? throw new ArgumentNullException(nameof(via));

    /// <summary>A new file name in the body directory (a download target the caller can watch grow).</summary>
    public string NextBodyPath(string kind) =>
        Path.Combine(directory, $"{kind}-{Interlocked.Increment(ref _serial).ToString(CultureInfo.InvariantCulture)}.bin");

    /// <summary>
    /// <c>GET http://HOST:PORT/bytes/N?seed=S</c> into <paramref name="outputPath"/> (a fresh one when null), bounded by
    /// <paramref name="timeout"/>; <paramref name="limitBytesPerSecond"/> throttles curl's reading (to keep a transfer
    /// running long enough for something to happen during it).
    /// </summary>
    public async Task<HttpDownload> DownloadAsync(
        string host, int port, long bytes, ulong seed, TimeSpan timeout, string? outputPath = null, long? limitBytesPerSecond = null, CancellationToken cancellationToken = default)
    {
        var output = outputPath ?? NextBodyPath("download");
        var url = $"http://{host}:{port.ToString(CultureInfo.InvariantCulture)}/bytes/{bytes.ToString(CultureInfo.InvariantCulture)}?seed={seed.ToString(CultureInfo.InvariantCulture)}";
        var arguments = new List<string> { "--socks5-hostname", Socks5, "-o", output };
        if (limitBytesPerSecond is { } limit)
        {
            arguments.Add("--limit-rate");
            arguments.Add(limit.ToString(CultureInfo.InvariantCulture));
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        var curl = await LinuxCurl.RunAsync(runner, null, url, arguments, timeout, linked.Token);
        var received = File.Exists(output) ? await TestData.DigestFileAsync(output, cancellationToken) : new TransferDigest(0, string.Empty);
        var expected = new TransferDigest(bytes, TestData.Sha256(bytes, seed));
        var mismatch = received != expected && File.Exists(output) ? await TestData.FirstMismatchAsync(output, seed, cancellationToken) : -1;
        TryDelete(output);
        var result = new HttpDownload(curl, expected, received, mismatch);
        runner.Log.Write($"download via {Via.Name} SOCKS5 {url}: {result.Describe()}");
        return result;
    }

    /// <summary>
    /// Starts a download throttled to last about <paramref name="plannedTime"/> and returns once
    /// <paramref name="fractionIn"/> of it arrived (bounded by <paramref name="timeout"/>), so the caller can break
    /// something while it runs. Throws when it ended before that (with what curl said).
    /// </summary>
    public async Task<RunningDownload> StartThrottledDownloadAsync(
        string host, int port, long bytes, ulong seed, TimeSpan plannedTime, double fractionIn, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var output = NextBodyPath("download");
        var rate = (long)(bytes / plannedTime.TotalSeconds);
        var completion = DownloadAsync(host, port, bytes, seed, timeout, output, rate, cancellationToken);
        var running = new RunningDownload(output, rate, completion);
        await Poll.UntilAsync(
            _ => Task.FromResult(running.BytesIn),
            length => length >= bytes * fractionIn || completion.IsCompleted,
            timeout,
            $"{fractionIn:P0} of the download in",
            cancellationToken,
            TimeSpan.FromMilliseconds(50));
        if (completion.IsCompleted)
        {
            throw new InvalidOperationException($"the throttled download ended before {fractionIn:P0} of it was in: {(await completion).Describe()}");
        }

        runner.Log.Write($"throttled download ({TestScale.Describe(rate)}/s) running: {TestScale.Describe(running.BytesIn)} in");
        return running;
    }

    /// <summary>
    /// <c>POST http://HOST:PORT/sink</c> with <paramref name="bytes"/> bytes of stream <paramref name="seed"/>
    /// (<c>-T</c>: Content-Length, <c>Expect: 100-continue</c>), bounded; the service answers what it read.
    /// </summary>
    public async Task<HttpUpload> UploadAsync(string host, int port, long bytes, ulong seed, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var input = NextBodyPath("upload");
        var response = NextBodyPath("upload-response");
        var sent = new TransferDigest(bytes, await TestData.CreateFileAsync(input, bytes, seed, cancellationToken));
        var url = $"http://{host}:{port.ToString(CultureInfo.InvariantCulture)}/sink";
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        var curl = await LinuxCurl.RunAsync(runner, null, url, new[] { "--socks5-hostname", Socks5, "-X", "POST", "-T", input, "-o", response }, timeout, linked.Token);
        TransferDigest? answered = null;
        if (File.Exists(response))
        {
            try
            {
                using var json = JsonDocument.Parse(await File.ReadAllTextAsync(response, cancellationToken));
                answered = new TransferDigest(json.RootElement.GetProperty("bytes").GetInt64(), json.RootElement.GetProperty("sha256").GetString() ?? string.Empty);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                runner.Log.Write($"upload response is not the sink's JSON: {e.Message}");
            }
        }

        TryDelete(input);
        TryDelete(response);
        var result = new HttpUpload(curl, sent, answered);
        runner.Log.Write($"upload via {Via.Name} SOCKS5 {url}: {result.Describe()}");
        return result;
    }

    private string Socks5 => "127.0.0.1:" + Via.Socks5Port.ToString(CultureInfo.InvariantCulture);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the work directory goes with the test.
        }
    }
}

/// <summary>One download: what curl said, what was expected, what arrived and where it first differed (-1: nowhere).</summary>
public sealed record HttpDownload(CurlResult Curl, TransferDigest Expected, TransferDigest Received, long FirstMismatch)
{
    /// <summary>curl succeeded with 2xx and the body is byte-exact.</summary>
    public bool ByteExact => Curl.Succeeded && Received == Expected;

    /// <summary>Average rate in Mbit/s (curl's figure).</summary>
    public double Mbps => Curl.DownloadMbps;

    /// <summary>One line for the log and for failure messages.</summary>
    public string Describe() =>
        $"{(ByteExact ? "byte-exact" : "NOT byte-exact")} {TestScale.Describe(Received.Bytes)} of {TestScale.Describe(Expected.Bytes)} in {Curl.TotalSeconds:0.000} s = {Mbps:0.0} Mbit/s" +
        (ByteExact ? string.Empty : $" (first mismatch at {FirstMismatch}; {Curl})");
}

/// <summary>One upload: what curl said, what was sent and what the sink answered it read (null: no answer).</summary>
public sealed record HttpUpload(CurlResult Curl, TransferDigest Sent, TransferDigest? Answered)
{
    /// <summary>curl succeeded with 2xx and the sink read exactly what was sent.</summary>
    public bool ByteExact => Curl.Succeeded && Answered == Sent;

    /// <summary>Average rate in Mbit/s (curl's figure).</summary>
    public double Mbps => Curl.UploadMbps;

    /// <summary>One line for the log and for failure messages.</summary>
    public string Describe() =>
        $"{(ByteExact ? "byte-exact" : "NOT byte-exact")} {TestScale.Describe(Sent.Bytes)} in {Curl.TotalSeconds:0.000} s = {Mbps:0.0} Mbit/s" +
        (ByteExact ? string.Empty : $" (sink answered {Answered?.ToString() ?? "nothing"}; {Curl})");
}

/// <summary>A download still running: its body file (growing), its throttle and its completion.</summary>
public sealed record RunningDownload(string OutputPath, long BytesPerSecond, Task<HttpDownload> Completion)
{
    /// <summary>Bytes in the body file now.</summary>
    public long BytesIn => File.Exists(OutputPath) ? new FileInfo(OutputPath).Length : 0;
}
