using System.Diagnostics;
using System.Text.Json;

namespace TsNet.Tests.Packaging;

/// <summary>
/// Versions from git: an untagged commit packs as a prerelease carrying the commit, so two commits never share a
/// version in a NuGet cache; an explicit <c>-p:Version</c> (the packaging tests' unique versions) still wins.
/// </summary>
public sealed class VersionFromGitTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task PackageVersionOfHead_CarriesTheShortCommitHash()
    {
        var root = TsNet.TestSupport.RepositoryPaths.Root;
        var commit = Git(root, "rev-parse", "--short=12", "HEAD");
        var tagged = GitExitCode(root, "describe", "--tags", "--exact-match", "--match", "v[0-9]*", "HEAD") == 0;

        var version = await PackageVersionAsync(root);

        if (tagged)
        {
            version.Should().MatchRegex("^[0-9]+\\.[0-9]+\\.[0-9]+", "a tagged commit builds its tag's version");
        }
        else
        {
            version.Should().MatchRegex($"^[0-9]+\\.[0-9]+\\.[0-9]+-alpha\\.[0-9]+\\.g{commit}$", "an untagged commit is a prerelease naming the commit in the label, not in +metadata");
        }
    }

    [Fact]
    public async Task AnExplicitVersion_Wins()
    {
        var version = await PackageVersionAsync(TsNet.TestSupport.RepositoryPaths.Root, "-p:Version=9.8.7-explicit.1");

        version.Should().Be("9.8.7-explicit.1");
    }

    private static async Task<string> PackageVersionAsync(string root, params string[] extra)
    {
        var project = Path.Combine(root, "src", "TsNet", "TsNet.csproj");
        var result = await DotnetCommand.RunAsync(root, Limit, ["msbuild", project, "-t:TsNetVersionFromGit", "-getProperty:PackageVersion", "-getProperty:Version", .. extra]);
        result.ExitCode.Should().Be(0, result.Output);
        using var json = JsonDocument.Parse(result.StandardOutput);
        return json.RootElement.GetProperty("Properties").GetProperty("PackageVersion").GetString()!;
    }

    private static string Git(string root, params string[] arguments)
    {
        using var process = StartGit(root, arguments);
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit(Limit).Should().BeTrue();
        process.ExitCode.Should().Be(0, $"git {string.Join(' ', arguments)} in {root}");
        return output;
    }

    private static int GitExitCode(string root, params string[] arguments)
    {
        using var process = StartGit(root, arguments);
        process.StandardOutput.ReadToEnd();
        process.WaitForExit(Limit).Should().BeTrue();
        return process.ExitCode;
    }

    private static Process StartGit(string root, string[] arguments)
    {
        var startInfo = new ProcessStartInfo("git") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        return Process.Start(startInfo)!;
    }
}
