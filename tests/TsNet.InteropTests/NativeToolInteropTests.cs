using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TsNet.InteropTests.Harness;
using TsNet.InteropTests.Tailscale;
using TsNet.InteropTests.Tailscale.Harness;
using Xunit.Abstractions;

namespace TsNet.InteropTests;

/// <summary>
/// The NativeAOT <c>tsnet</c>: <c>dotnet publish src/TsNet.Tool -r linux-x64 -p:PublishAot=true</c> (clang and
/// zlib1g-dev from .ci/run) gives one binary with no trimming or AOT warnings, whose <c>tsnet demo</c> succeeds and
/// starts faster than the JIT build. The published binary is cached per build of the tool (keyed by the hash of its
/// built assemblies), so only a changed build pays for the native compile. Prints the size and both demo times. In
/// control mode against Tailscale's test control server the native binary decodes its zstd map responses.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class NativeToolInteropTests
{
    /// <summary>A cold native compile of the tool on a loaded 2-core machine takes minutes; more is a hang.</summary>
    private static readonly TimeSpan PublishBound = TimeSpan.FromMinutes(12);

    private static readonly TimeSpan DemoBound = TimeSpan.FromSeconds(60);

    /// <summary>Bound for the control-mode run: server start, join, stop.</summary>
    private static readonly TimeSpan ControlBound = TimeSpan.FromSeconds(150);

    /// <summary>Runs per build for the start-up figures (medians reported).</summary>
    private const int TimedRuns = 5;

    private readonly TestLog _log;
    private readonly ProcessRunner _runner;

    public NativeToolInteropTests(ITestOutputHelper output)
    {
        InteropEnvironment.EnsureReady();
        _log = new TestLog(output);
        _runner = new ProcessRunner(_log);
    }

    /// <summary>Publishes (or reuses) the native tool; <c>tsnet demo</c> passes natively; native beats JIT at start-up.</summary>
    [InteropFact(Requires = "clang")]
    public async Task NativeTsnet_PublishesWithoutWarnings_DemoSucceeds_StartsFasterThanJit()
    {
        InteropEnvironment.EnsureTools("clang");
        var (binary, publishLog) = await PublishOrReuseAsync();
        var warnings = publishLog.Split('\n').Where(l => l.Contains(": warning ", StringComparison.Ordinal)).Distinct().ToList();
        warnings.Should().BeEmpty("the native publish has no trimming or AOT warnings");
        Path.GetFileName(binary).Should().Be("tsnet");
        var size = new FileInfo(binary).Length;
        _log.Write(string.Create(CultureInfo.InvariantCulture, $"native tsnet: {binary}, {size / 1e6:0.0} MB"));

        var native = await _runner.RunAsync(binary, ["demo"], DemoBound);
        native.Succeeded.Should().BeTrue(native.ToString());
        native.StandardOutput.Should().Contain("demo ok");

        var help = await _runner.RunAsync(binary, ["status", "--help"], DemoBound);
        help.Succeeded.Should().BeTrue(help.ToString());
        help.StandardOutput.Should().StartWith("usage: tsnet status");

        var nativeTimes = await TimeDemoAsync(binary, []);
        var jitTimes = await TimeDemoAsync(TsNetTool.DotnetHost, [TsNetTool.DllPath]);
        var nativeMedian = Median(nativeTimes);
        var jitMedian = Median(jitTimes);
        _log.Write(string.Create(CultureInfo.InvariantCulture, $"tsnet demo wall time, median of {TimedRuns}: native {nativeMedian:0.000} s [{string.Join(", ", nativeTimes.Select(t => t.ToString("0.000", CultureInfo.InvariantCulture)))}], dotnet TsNet.Tool.dll {jitMedian:0.000} s [{string.Join(", ", jitTimes.Select(t => t.ToString("0.000", CultureInfo.InvariantCulture)))}]; binary {size / 1e6:0.0} MB"));
        nativeMedian.Should().BeLessThan(jitMedian, "the native binary needs no JIT at start-up");
    }

    /// <summary>
    /// The native binary in control mode against Tailscale's <c>testcontrol-server</c>, which sends map responses
    /// zstd-compressed: the native build stubs out ZstdSharp's compressors (src/TsNet.Tool/NativeAot.Substitutions.xml),
    /// so a ready line carrying the name from the server's map shows the decoder is whole. SIGTERM then stops it with 0.
    /// </summary>
    [InteropFact(Requires = "clang")]
    [Trait("Category", TailscaleFactAttribute.Category)]
    public async Task NativeTsnet_UpAgainstTestControl_DecodesZstdMaps_ReadyByName()
    {
        InteropEnvironment.EnsureTools("clang");
        TailscaleBinaries.EnsureAvailable();
        var (binary, _) = await PublishOrReuseAsync();
        using var bound = new CancellationTokenSource(ControlBound);
        await using var workDir = await TailscaleWorkDir.CreateAsync(_log, bound.Token);
        await using var control = await CliInteropSupport.StartControlAsync(workDir);

        await using var tool = _runner.Start(binary, ["up", "--login-server", control.Url, "--authkey", "tskey-native", "--hostname", "native1", "--ephemeral", "--echo", "7"], logPrefix: "tsnet-native");
        var ready = await tool.WaitForLineAsync(l => l.StartsWith("ready ", StringComparison.Ordinal), CliInteropSupport.JoinTimeout, bound.Token);

        ready.Should().NotBeNull(CliInteropSupport.Describe(tool));
        ready.Should().EndWith(" name=native1." + CliInteropSupport.Domain, "the name comes from the server's (compressed) map");
        (await tool.StopAsync(TimeSpan.FromSeconds(20))).Should().BeTrue("SIGTERM stops the tool");
        tool.ExitCode.Should().Be(0, CliInteropSupport.Describe(tool));
        workDir.Complete();
    }

    private async Task<List<double>> TimeDemoAsync(string fileName, IReadOnlyList<string> prefix)
    {
        var times = new List<double>();
        for (var run = 0; run < TimedRuns; run++)
        {
            var clock = Stopwatch.StartNew();
            var result = await _runner.RunAsync(fileName, [.. prefix, "demo"], DemoBound, quiet: true);
            clock.Stop();
            result.Succeeded.Should().BeTrue(result.ToString());
            times.Add(clock.Elapsed.TotalSeconds);
        }

        return times;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>
    /// The native binary for the current build of the tool and the log of the publish that made it: from the cache when
    /// this build was published before, else published now into the cache.
    /// </summary>
    private async Task<(string Binary, string PublishLog)> PublishOrReuseAsync()
    {
        var root = TsNet.TestSupport.RepositoryPaths.Root;
        var cache = Path.Combine(AppContext.BaseDirectory, "native-tsnet", BuildHash(Path.GetDirectoryName(TsNetTool.DllPath)!));
        var binary = Path.Combine(cache, "tsnet");
        var logFile = Path.Combine(cache, "publish.log");
        if (File.Exists(binary) && File.Exists(logFile))
        {
            _log.Write($"native tsnet of this build cached in {cache}");
            return (binary, await File.ReadAllTextAsync(logFile));
        }

        var staging = cache + ".partial";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        var project = Path.Combine(root, "src", "TsNet.Tool");
        string[] arguments = ["publish", project, "-c", TsNet.TestSupport.RepositoryPaths.Configuration, "-r", "linux-x64", "-p:PublishAot=true", "-o", staging, "-nologo", "-clp:NoSummary"];
        _log.Write("$ dotnet " + string.Join(' ', arguments));
        var clock = Stopwatch.StartNew();
        var (exitCode, output) = await RunWithoutMsBuildEnvironmentAsync(TsNetTool.DotnetHost, arguments, PublishBound);
        _log.Write(string.Create(CultureInfo.InvariantCulture, $"publish: exit {exitCode} in {clock.Elapsed.TotalSeconds:0} s"));
        exitCode.Should().Be(0, "the native publish succeeds:\n" + output);
        File.Exists(Path.Combine(staging, "tsnet")).Should().BeTrue("the publish names the binary tsnet:\n" + output);
        await File.WriteAllTextAsync(Path.Combine(staging, "publish.log"), output);
        if (Directory.Exists(cache))
        {
            Directory.Delete(cache, recursive: true);
        }

        Directory.Move(staging, cache);
        return (binary, output);
    }

    /// <summary>The hash of the tool's built assemblies: equal for equal builds (deterministic), new for any change.</summary>
    private static string BuildHash(string toolDirectory)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.GetFiles(toolDirectory, "TsNet*.dll").Order(StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(file)));
            hash.AppendData(File.ReadAllBytes(file));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>
    /// Runs a nested <c>dotnet</c> command with the test host's MSBuild variables removed (inherited from
    /// <c>dotnet test</c>, they would point the nested build at the outer one's MSBuild); kills it at <paramref name="bound"/>.
    /// </summary>
    private static async Task<(int ExitCode, string Output)> RunWithoutMsBuildEnvironmentAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan bound)
    {
        var startInfo = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var name in startInfo.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            startInfo.Environment.Remove(name);
        }

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(bound);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, $"TIMED OUT after {bound.TotalMinutes:0} min\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
