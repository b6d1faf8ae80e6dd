namespace TsNet.Tool.Cli;

/// <summary>The tool's exit codes (api.md): what a shell script can rely on.</summary>
internal static class ExitCodes
{
    /// <summary>Success, or a clean stop after SIGINT/SIGTERM.</summary>
    public const int Success = 0;

    /// <summary>A runtime failure (the node could not start, the demo's fetch failed, bad key on stdin).</summary>
    public const int Failure = 1;

    /// <summary>A usage or configuration error (unknown command or flag, bad config file).</summary>
    public const int Usage = 2;
}
