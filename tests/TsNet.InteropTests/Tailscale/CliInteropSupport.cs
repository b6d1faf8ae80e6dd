using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale.Harness;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// What the <c>tsnet up --login-server</c> and TailnetWhoAmI interop tests share: a test control server in its own
/// work directory, and an in-process TsNet node on the same tailnet that plays the other side.
/// </summary>
internal static class CliInteropSupport
{
    /// <summary>Bound for a node (the tool, the sample, an in-process node) to be on the tailnet.</summary>
    public static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The test control server's tailnet domain (its default).</summary>
    public const string Domain = "tail.test";

    /// <summary>Starts a control server in <paramref name="workDir"/>.</summary>
    public static async Task<TestControlServer> StartControlAsync(TailscaleWorkDir workDir, TestControlServerOptions? options = null)
    {
        using var bound = new CancellationTokenSource(TestControlServer.StartTimeout);
        return await TestControlServer.StartAsync(workDir, options, bound.Token);
    }

    /// <summary>An ephemeral TsNet node named <paramref name="hostname"/>, Running on the tailnet of <paramref name="control"/>.</summary>
    public static async Task<TailnetServer> JoinAsync(TestControlServer control, string hostname, string authKey, TestLog log, CancellationToken cancellationToken)
    {
        var node = new TailnetServer(new TailnetServerOptions
        {
            ControlUrl = new Uri(control.Url),
            AuthKey = authKey,
            Hostname = hostname,
            Ephemeral = true,
            LoggerFactory = new TestLoggerFactory(log, Microsoft.Extensions.Logging.LogLevel.Information),
        });
        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(JoinTimeout);
            await node.UpAsync(bound.Token);
            log.Write($"[{hostname}] running as {node.DnsName} ({string.Join(", ", node.Addresses)})");
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>The child's stdout lines (stderr lines carry a <c>!</c> prefix in <see cref="ChildProcess.Lines"/>).</summary>
    public static IReadOnlyList<string> StandardOutput(ChildProcess child) =>
        child.Lines.Where(line => !line.StartsWith('!')).ToList();

    /// <summary>The child's output for an assertion message.</summary>
    public static string Describe(ChildProcess child) =>
        $"exit code {child.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none (running)"}; output:\n{string.Join('\n', child.Lines)}";
}
