using Xunit.Abstractions;
using Xunit.Sdk;

namespace TsNet.InteropTests.Harness;

/// <summary>All interop tests share this collection: they run one at a time, after leftovers are cleaned.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InteropCollection : ICollectionFixture<InteropFixture>
{
    /// <summary>Collection name for <c>[Collection(InteropCollection.Name)]</c>.</summary>
    public const string Name = "Interop";
}

/// <summary>
/// Collection fixture: at start removes leftovers of earlier (crashed) runs; at the end stops every
/// <see cref="WireGuardGoPeer"/> still alive and removes everything this process created.
/// </summary>
public sealed class InteropFixture : IAsyncLifetime
{
    private readonly ProcessRunner _runner;

    /// <summary>Created by xunit; diagnostics go to its message sink (and stderr).</summary>
    public InteropFixture(IMessageSink sink)
    {
        _runner = new ProcessRunner(new TestLog(line =>
        {
            Console.Error.WriteLine("[interop fixture] " + line);
            sink.OnMessage(new DiagnosticMessage("[interop fixture] " + line));
        }));
    }

    /// <summary>Number of leftovers removed at start.</summary>
    public int LeftoversRemoved { get; private set; }

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        if (!InteropEnvironment.IsReady)
        {
            _runner.Log.Write("environment not ready, no cleanup: " + InteropEnvironment.UnavailableReason);
            return;
        }

        LeftoversRemoved = await LeftoverCleaner.CleanAsync(_runner, LeftoverCleaner.IsStaleOwner);
        if (LeftoversRemoved > 0)
        {
            _runner.Log.Write($"removed {LeftoversRemoved} leftovers of earlier runs");
        }
    }

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (!InteropEnvironment.IsReady)
        {
            return;
        }

        await WireGuardGoPeer.DisposeAllAsync();
        var removed = await LeftoverCleaner.CleanAsync(_runner, LeftoverCleaner.IsOwnOwner);
        if (removed > 0)
        {
            _runner.Log.Write($"removed {removed} resources that tests had not cleaned up");
        }
    }
}
