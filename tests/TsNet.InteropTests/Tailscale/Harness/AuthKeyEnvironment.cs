namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// Clears <c>TS_AUTHKEY</c> in this process for a test that must show a node needs no auth key (or logs in
/// interactively), and restores it on dispose. The interop tests run one at a time (their collection), so no other
/// test sees the change.
/// </summary>
public sealed class AuthKeyEnvironment : IDisposable
{
    /// <summary>The variable TsNet reads when <see cref="TailnetServerOptions.AuthKey"/> is null.</summary>
    public const string VariableName = "TS_AUTHKEY";

    private readonly string? _saved;

    private AuthKeyEnvironment()
    {
        _saved = Environment.GetEnvironmentVariable(VariableName);
        Environment.SetEnvironmentVariable(VariableName, null);
    }

    /// <summary>Clears the variable until dispose.</summary>
    public static AuthKeyEnvironment Cleared() => new();

    /// <inheritdoc/>
    public void Dispose() => Environment.SetEnvironmentVariable(VariableName, _saved);
}
