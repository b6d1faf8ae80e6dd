using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TsNet.InteropTests.Harness;

/// <summary>Shared bits of the socat helpers: address syntax, file-name checks, starting a listener and waiting until it listens.</summary>
internal static class Socat
{
    /// <summary>Bound for socat to report that it listens.</summary>
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(10);

    /// <summary><c>TCP4</c>/<c>TCP6</c> or <c>UDP4</c>/<c>UDP6</c> with the given suffix, by address family.</summary>
    public static string Kind(string protocol, IPAddress address, string suffix = "") =>
        protocol + (address.AddressFamily == AddressFamily.InterNetworkV6 ? "6" : "4") + suffix;

    /// <summary>socat's host syntax: IPv6 in brackets.</summary>
    public static string Host(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + address + "]" : address.ToString();

    /// <summary><c>host:port</c> in socat's syntax.</summary>
    public static string HostPort(IPEndPoint endPoint) => Host(endPoint.Address) + ":" + endPoint.Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>A file path usable inside a socat address (no separators socat would parse).</summary>
    public static string FilePath(string path)
    {
        if (path.IndexOfAny(new[] { ':', ',', '!', ' ', '\'', '"', '\\', '{', '}', '[', ']' }) >= 0)
        {
            throw new ArgumentException($"path '{path}' contains characters socat would parse", nameof(path));
        }

        return path;
    }

    /// <summary>
    /// Starts <c>ip netns exec NS socat -d -d ARGS</c> as a child process and waits (bounded) for its "listening on" /
    /// "receiving on" notice. On failure the process is stopped and the exception carries socat's output.
    /// </summary>
    public static async Task<ChildProcess> StartListenerAsync(WireGuardGoPeer peer, string logPrefix, IReadOnlyList<string> socatArgs, CancellationToken cancellationToken)
    {
        if (InteropEnvironment.ResolveTool("socat") is null)
        {
            throw new InvalidOperationException("socat is missing (apt-get install socat)");
        }

        var args = new List<string> { "netns", "exec", peer.Namespace, "socat", "-d", "-d" };
        args.AddRange(socatArgs);
        var process = peer.Runner.Start("ip", args, logPrefix: logPrefix);
        try
        {
            var line = await process.WaitForLineAsync(
                l => l.Contains(" listening on ", StringComparison.Ordinal) || l.Contains(" receiving on ", StringComparison.Ordinal),
                ReadyTimeout,
                cancellationToken);
            if (line is null)
            {
                throw new InvalidOperationException(
                    $"socat ({logPrefix}) did not start listening within {ReadyTimeout.TotalSeconds:0} s (exit code {process.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none, still running"}):\n" +
                    string.Join('\n', process.Lines));
            }

            return process;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs a one-shot <c>socat ARGS</c> inside the namespace (bounded).</summary>
    public static Task<CommandResult> RunAsync(WireGuardGoPeer peer, IReadOnlyList<string> socatArgs, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var args = new List<string> { "netns", "exec", peer.Namespace, "socat" };
        args.AddRange(socatArgs);
        return peer.Runner.RunAsync("ip", args, timeout, cancellationToken: cancellationToken);
    }
}
