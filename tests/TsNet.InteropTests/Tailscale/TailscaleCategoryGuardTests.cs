using System.Reflection;
using TsNet.InteropTests.Tailscale.Harness;

namespace TsNet.InteropTests.Tailscale;

/// <summary>
/// Keeps the GitHub opt-out honest: the workflow leaves the Tailscale tests out by <c>--filter "Category!=Tailscale"</c>,
/// so every <see cref="TailscaleFactAttribute"/> test must carry that trait (on its class), or it would run, and fail,
/// where the binaries are missing. Needs nothing; runs everywhere.
/// </summary>
public sealed class TailscaleCategoryGuardTests
{
    [Fact]
    public void EveryTailscaleFact_CarriesTheTailscaleCategory()
    {
        var methods = typeof(TailscaleCategoryGuardTests).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Where(method => method.GetCustomAttribute<TailscaleFactAttribute>() is not null)
            .ToList();

        methods.Should().NotBeEmpty();
        methods.Where(method => !HasCategory(method))
            .Select(method => method.DeclaringType!.Name + "." + method.Name)
            .Should().BeEmpty($"[TailscaleFact] tests need [Trait(\"Category\", TailscaleFactAttribute.Category)] so GitHub's filter leaves them out");
    }

    // TraitAttribute keeps its (name, value) only in the attribute data.
    private static bool HasCategory(MethodInfo method) =>
        method.CustomAttributes.Concat(method.DeclaringType!.CustomAttributes).Any(attribute =>
            attribute.AttributeType == typeof(TraitAttribute) &&
            attribute.ConstructorArguments.Count == 2 &&
            (string?)attribute.ConstructorArguments[0].Value == "Category" &&
            (string?)attribute.ConstructorArguments[1].Value == TailscaleFactAttribute.Category);
}
