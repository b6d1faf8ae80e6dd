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
    /// <summary>The library packages: <c>TsNet</c>, the ASP.NET Core and the generic-host integrations (the tool is packed apart).</summary>
    public static readonly string[] Libraries = ["TsNet", "TsNet.AspNetCore", "TsNet.Extensions.Hosting"];

    /// <summary>Every project under src/ that is a package of its own (Directory.Build.props, TsNetPackageProjects).</summary>
    public static readonly string[] PackageProjects = [.. Libraries, "TsNet.Tool"];

    /// <summary>
    /// The lower projects: every other project under src/. They are no packages; their assemblies ship inside
    /// the <c>TsNet</c> package. Found on disk, so a lower project added later is checked without a test edit.
    /// </summary>
    public static string[] LowerProjects { get; } = Directory
        .GetDirectories(Path.Combine(TsNet.TestSupport.RepositoryPaths.Root, "src"))
        .Select(Path.GetFileName)
        .OfType<string>()
        .Where(name => File.Exists(Path.Combine(TsNet.TestSupport.RepositoryPaths.Root, "src", name, name + ".csproj")))
        .Except(PackageProjects)
        .Order(StringComparer.Ordinal)
        .ToArray();

    /// <summary>The assemblies in the <c>TsNet</c> package: its own and every lower project's.</summary>
    public static string[] TsNetPackageAssemblies { get; } = ["TsNet", .. LowerProjects];

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
        // The lower projects are packed too: they must produce no package of their own.
        var projects = string.Join(",", Libraries.Concat(LowerProjects).Select(l => $"\"src/{l}/{l}.csproj\""));
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
