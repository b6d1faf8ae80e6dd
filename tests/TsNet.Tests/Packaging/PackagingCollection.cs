namespace TsNet.Tests.Packaging;

/// <summary>
/// Packaging tests share one packed feed and run alone: a nested build takes both CPU cores for a while,
/// which must not stretch the timing of the network tests running beside it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PackagingCollection : ICollectionFixture<PackedFeed>
{
    public const string Name = "Packaging";
}
