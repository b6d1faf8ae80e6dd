using System.IO.Compression;
using System.Xml.Linq;

namespace TsNet.Tests.Packaging;

/// <summary>
/// Packs the src/ libraries once, into a temporary folder that serves as a local package feed, with a unique
/// prerelease version (nothing cached by NuGet can stand in for it). The build runs in its own artifacts
/// folder so the repository's bin/obj stay as they are. Everything is deleted on dispose.
/// </summary>
public sealed class PackedFeed : IAsyncLifetime
{
    /// <summary>The libraries a consumer of <c>TsNet</c> gets, in dependency order.</summary>
    public static readonly string[] CoreLibraries = ["TsNet.Packets", "TsNet.Loops", "TsNet.WireGuard", "TsNet.Netstack", "TsNet"];

    /// <summary>Every src/ library: the core ones plus the ASP.NET Core integration.</summary>
    public static readonly string[] Libraries = [.. CoreLibraries, "TsNet.AspNetCore"];

    /// <summary>A bound on one CLI step: far above the usual tens of seconds, for a machine under load.</summary>
    public static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(4);

    public string RepositoryRoot { get; } = TsNet.TestSupport.RepositoryPaths.Root;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "tsnet-pack-" + Guid.NewGuid().ToString("N"));

    public string Version { get; } = $"0.1.0-test.{DateTime.UtcNow.Ticks}";

    public string FeedDirectory => Path.Combine(Root, "feed");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        var solutionFilter = Path.Combine(Root, "pack.slnf");
        var projects = string.Join(",", Libraries.Select(l => $"\"src/{l}/{l}.csproj\""));
        var solution = Path.Combine(RepositoryRoot, "TsNet.sln").Replace("\\", "\\\\", StringComparison.Ordinal);
        await File.WriteAllTextAsync(solutionFilter, $$$"""{"solution":{"path":"{{{solution}}}","projects":[{{{projects}}}]}}""");

        var result = await DotnetCommand.RunAsync(
            RepositoryRoot,
            StepTimeout,
            "pack", solutionFilter,
            "-c", "Release",
            "--disable-build-servers",
            "-nodeReuse:false",
            $"-p:Version={Version}",
            $"-p:PackageOutputPath={FeedDirectory}",
            $"-p:ArtifactsPath={Path.Combine(Root, "artifacts")}");
        result.ExitCode.Should().Be(0, "dotnet pack must succeed:\n{0}", result.Describe());
    }

    public Task DisposeAsync()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }

        return Task.CompletedTask;
    }

    public string PackagePath(string id) => Path.Combine(FeedDirectory, $"{id}.{Version}.nupkg");

    public string SymbolPackagePath(string id) => Path.Combine(FeedDirectory, $"{id}.{Version}.snupkg");

    /// <summary>The package's .nuspec (namespace-free names are compared through <see cref="XName.LocalName"/>).</summary>
    public XElement ReadNuspec(string id)
    {
        using var package = ZipFile.OpenRead(PackagePath(id));
        var entry = package.GetEntry($"{id}.nuspec") ?? throw new InvalidOperationException($"{id}: no nuspec");
        using var stream = entry.Open();
        return XDocument.Load(stream).Root ?? throw new InvalidOperationException($"{id}: empty nuspec");
    }
}
