using System.IO.Compression;
using System.Reflection.Metadata;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace TsNet.Tests.Packaging;

/// <summary>
/// What <c>dotnet pack</c> produces for the src/ libraries (one <c>TsNet</c> package carrying the lower
/// assemblies, plus <c>TsNet.AspNetCore</c>), and that an application referencing only those packages by
/// version (samples/PackageConsumer) restores, builds and runs against them.
/// </summary>
[Collection(PackagingCollection.Name)]
public sealed class PackageConsumerTests(PackedFeed feed)
{
    /// <summary>The SourceLink custom debug information kind in a portable PDB.</summary>
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    private const string RepositoryUrl = "https://github.com/tsnet-dotnet/tsnet";

    public static TheoryData<string> Libraries => new(PackedFeed.Libraries);

    /// <summary>Every assembly with symbols: the two packages' own and the lower ones inside <c>TsNet</c>.</summary>
    public static TheoryData<string, string> PackagedAssemblies
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var assembly in PackedFeed.TsNetPackageAssemblies)
            {
                data.Add("TsNet", assembly);
            }

            data.Add("TsNet.AspNetCore", "TsNet.AspNetCore");
            data.Add("TsNet.Extensions.Hosting", "TsNet.Extensions.Hosting");
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Package_ContainsAssemblyDocsReadmeAndLicense(string id)
    {
        using var package = ZipFile.OpenRead(feed.PackagePath(id));
        var entries = package.Entries.Select(e => e.FullName).ToList();

        entries.Should().Contain(
            [$"lib/net10.0/{id}.dll", $"lib/net10.0/{id}.xml", "README.md", "LICENSE"]);
        ReadEntry(package, $"lib/net10.0/{id}.xml").Should().Contain("<member name=", "the XML documentation is not empty");
        ReadEntry(package, "README.md").Should().StartWith("# ").And.Contain("TsNet");
        ReadEntry(package, "LICENSE").Should().StartWith("MIT License");
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Package_Metadata_DescribesTheLibrary(string id)
    {
        var metadata = Child(feed.ReadNuspec(id), "metadata");

        Value(metadata, "id").Should().Be(id);
        Value(metadata, "version").Should().Be(feed.Version);
        Value(metadata, "readme").Should().Be("README.md");
        Value(metadata, "description").Should().NotBeNullOrWhiteSpace();
        Value(metadata, "tags").Should().Contain("wireguard");
        var license = Child(metadata, "license");
        Attribute(license, "type").Should().Be("expression");
        license.Value.Should().Be("MIT");
        var repository = Child(metadata, "repository");
        Attribute(repository, "url").Should().Be(RepositoryUrl);
        Attribute(repository, "commit").Should().MatchRegex("^[0-9a-f]{40}$");
    }

    [Fact]
    public void LowerProjects_AreFound_AndIncludeTheKnownLayers()
    {
        PackedFeed.LowerProjects.Should().Contain(["TsNet.Packets", "TsNet.WireGuard", "TsNet.Netstack"]);
    }

    [Fact]
    public void TsNet_CarriesTheLowerAssemblies_WithTheirDocs()
    {
        using var package = ZipFile.OpenRead(feed.PackagePath("TsNet"));
        var entries = package.Entries.Select(e => e.FullName).ToList();

        foreach (var assembly in PackedFeed.LowerProjects)
        {
            entries.Should().Contain([$"lib/net10.0/{assembly}.dll", $"lib/net10.0/{assembly}.xml"], "{0} ships inside the TsNet package", assembly);
            ReadEntry(package, $"lib/net10.0/{assembly}.xml").Should().Contain($"<name>{assembly}</name>");
        }

        entries.Should().NotContain(e => e.EndsWith(".pdb", StringComparison.Ordinal), "symbols go into the .snupkg");
    }

    [Fact]
    public void LowerProjects_AreNoPackagesOfTheirOwn()
    {
        var packages = Directory.GetFiles(feed.FeedDirectory, "*.nupkg").Select(Path.GetFileName).ToList();

        packages.Should().BeEquivalentTo(PackedFeed.Libraries.Select(id => $"{id}.{feed.Version}.nupkg"));
    }

    [Fact]
    public void TsNet_DependsOnThirdPartyPackagesOnly()
    {
        var dependencies = Dependencies("TsNet");

        dependencies.Keys.Should().BeEquivalentTo(["Microsoft.Extensions.Logging.Abstractions", "Portable.BouncyCastle", "ZstdSharp.Port"],
            "the lower assemblies are inside the package, so their NuGet dependencies are its own");
        dependencies.Keys.Should().NotContain(id => id.StartsWith("TsNet", StringComparison.Ordinal), "ASP.NET Core hosting is opt-in");
    }

    [Fact]
    public void AspNetCore_DependsOnTsNet_AndTheSharedFramework()
    {
        var metadata = Child(feed.ReadNuspec("TsNet.AspNetCore"), "metadata");
        var dependencies = Dependencies("TsNet.AspNetCore");
        dependencies.Keys.Should().Equal(["TsNet"], "everything else it needs comes with TsNet");
        dependencies["TsNet"].Should().Be(feed.Version, "the packages are released together");
        metadata.Descendants().Where(e => e.Name.LocalName == "frameworkReference")
            .Select(e => e.Attribute("name")?.Value).Should().Contain("Microsoft.AspNetCore.App");
    }

    [Fact]
    public void ExtensionsHosting_DependsOnTsNet_AndTheHostingAbstractionsOnly()
    {
        var dependencies = Dependencies("TsNet.Extensions.Hosting");
        dependencies.Keys.Should().BeEquivalentTo(["TsNet", "Microsoft.Extensions.Hosting.Abstractions", "Microsoft.Extensions.Options"],
            "a worker without ASP.NET Core must not pull in the shared framework");
        dependencies["TsNet"].Should().Be(feed.Version, "the packages are released together");
    }

    [Theory]
    [MemberData(nameof(PackagedAssemblies))]
    public void SymbolPackage_HasPdbWithSourceLinkToTheRepository(string id, string assembly)
    {
        File.Exists(feed.SymbolPackagePath(id)).Should().BeTrue($"{id} has a .snupkg next to its .nupkg");
        using var symbols = ZipFile.OpenRead(feed.SymbolPackagePath(id));
        var pdbEntry = symbols.GetEntry($"lib/net10.0/{assembly}.pdb");
        pdbEntry.Should().NotBeNull();

        using var pdb = new MemoryStream();
        using (var stream = pdbEntry!.Open())
        {
            stream.CopyTo(pdb);
        }

        pdb.Position = 0;
        using var provider = MetadataReaderProvider.FromPortablePdbStream(pdb);
        var reader = provider.GetMetadataReader();
        var sourceLinks = reader.CustomDebugInformation
            .Select(reader.GetCustomDebugInformation)
            .Where(info => reader.GetGuid(info.Kind) == SourceLinkKind)
            .Select(info => Encoding.UTF8.GetString(reader.GetBlobBytes(info.Value)))
            .ToList();

        sourceLinks.Should().ContainSingle();
        using var json = JsonDocument.Parse(sourceLinks[0]);
        var targets = json.RootElement.GetProperty("documents").EnumerateObject().Select(p => p.Value.GetString()).ToList();
        targets.Should().NotBeEmpty().And.AllSatisfy(url =>
            url.Should().MatchRegex("^https://raw\\.githubusercontent\\.com/tsnet-dotnet/tsnet/[0-9a-f]{40}/\\*$"));
    }

    [Fact]
    public async Task PackageConsumer_BuiltAgainstTheFeed_EchoesOverTheTailnet()
    {
        var consumer = Path.Combine(feed.RepositoryRoot, "samples", "PackageConsumer", "PackageConsumer.csproj");
        var artifacts = Path.Combine(feed.Root, "consumer");
        // Third-party packages come from the global packages folder (as a fallback folder, read only);
        // the TsNet packages are extracted into the temporary folder, so nothing of this run stays behind.
        var globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

        var build = await DotnetCommand.RunAsync(
            feed.Root,
            PackedFeed.StepTimeout,
            "build", consumer,
            "-c", "Release",
            "--disable-build-servers",
            "-nodeReuse:false",
            $"-p:TsNetPackageVersion={feed.Version}",
            $"-p:RestoreSources={feed.FeedDirectory};https://api.nuget.org/v3/index.json",
            $"-p:RestorePackagesPath={Path.Combine(feed.Root, "packages")}",
            $"-p:RestoreAdditionalProjectFallbackFolders={globalPackages}",
            $"-p:ArtifactsPath={artifacts}");
        build.ExitCode.Should().Be(0, "the consumer must build against the packed feed:\n{0}", build.Describe());
        foreach (var id in PackedFeed.Libraries)
        {
            Directory.Exists(Path.Combine(feed.Root, "packages", id.ToLowerInvariant(), feed.Version))
                .Should().BeTrue($"{id} was restored from the packed feed at the test version");
        }

        var run = await DotnetCommand.RunAsync(
            feed.Root,
            TimeSpan.FromSeconds(90),
            Path.Combine(artifacts, "bin", "PackageConsumer", "release", "PackageConsumer.dll"));

        run.ExitCode.Should().Be(0, run.Describe());
        run.StandardOutput.Should().Contain("PackageConsumer: GET http://a/ -> hello from Kestrel on the tailnet", "Kestrel serves through TsNet.AspNetCore");
        run.StandardOutput.Should().Contain("PackageConsumer: hosted node 100.64.0.3 Running", "the generic host starts the node through TsNet.Extensions.Hosting");
        run.StandardOutput.Should().MatchRegex(
            $@"PackageConsumer: echoed 22 bytes 100\.64\.0\.2:\d+ -> 100\.64\.0\.1:7000 with TsNet {System.Text.RegularExpressions.Regex.Escape(feed.Version)}\+[0-9a-f]{{40}}");
    }

    private Dictionary<string, string> Dependencies(string id) =>
        Child(feed.ReadNuspec(id), "metadata")
            .Descendants()
            .Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => e.Attribute("id")!.Value, e => e.Attribute("version")!.Value);

    private static string ReadEntry(ZipArchive package, string name)
    {
        using var reader = new StreamReader(package.GetEntry(name)!.Open());
        return reader.ReadToEnd();
    }

    private static XElement Child(XElement parent, string localName) =>
        parent.Elements().SingleOrDefault(e => e.Name.LocalName == localName)
        ?? throw new Xunit.Sdk.XunitException($"<{parent.Name.LocalName}> has no <{localName}>");

    private static string Value(XElement parent, string localName) => Child(parent, localName).Value;

    private static string Attribute(XElement element, string name) =>
        element.Attribute(name)?.Value ?? throw new Xunit.Sdk.XunitException($"<{element.Name.LocalName}> has no {name} attribute");
}
