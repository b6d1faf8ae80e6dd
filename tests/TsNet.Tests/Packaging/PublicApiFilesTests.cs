using System.Reflection;

namespace TsNet.Tests.Packaging;

/// <summary>
/// Every shipped assembly with public types tracks them (PublicAPI.Shipped.txt, which turns the analyzer on, see
/// Directory.Build.targets); one without public types has nothing to track. Covers lower projects added later.
/// </summary>
public sealed class PublicApiFilesTests
{
    public static TheoryData<string> ShippedAssemblies => new(PackedFeed.TsNetPackageAssemblies.Append("TsNet.AspNetCore").Append("TsNet.Extensions.Hosting"));

    [Theory]
    [MemberData(nameof(ShippedAssemblies))]
    public void AnAssemblyWithPublicTypes_HasPublicApiFiles_StartingWithNullableEnable(string name)
    {
        var assembly = Assembly.Load(name);
        var project = Path.Combine(TsNet.TestSupport.RepositoryPaths.Root, "src", name);
        var shipped = Path.Combine(project, "PublicAPI.Shipped.txt");
        var unshipped = Path.Combine(project, "PublicAPI.Unshipped.txt");

        if (assembly.GetExportedTypes().Length == 0)
        {
            File.Exists(shipped).Should().BeFalse($"{name} has no public types to track");
            return;
        }

        File.Exists(shipped).Should().BeTrue($"{name} has public types: {string.Join(", ", assembly.GetExportedTypes().Select(t => t.Name).Take(5))}");
        File.Exists(unshipped).Should().BeTrue();
        File.ReadLines(shipped).First().Should().Be("#nullable enable", "nullable annotations are part of the tracked surface");
        File.ReadLines(unshipped).First().Should().Be("#nullable enable");
    }
}
