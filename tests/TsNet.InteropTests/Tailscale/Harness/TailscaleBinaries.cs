using System.Security.Cryptography;
using TsNet.InteropTests.Harness;
using TsNet.TestSupport;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// The real Tailscale v1.36.2 programs the Tailscale interop tests run: <c>tailscaled</c>, <c>tailscale</c>,
/// <c>derper</c> and <c>testcontrol-server</c> in <c>../shared/tailscale/bin</c> relative to the repository root
/// (<c>TSNET_TAILSCALE_BIN</c> overrides the directory). Checked once per run: every file exists, is executable and
/// matches <c>SHA256SUMS</c> beside it; <c>openssl</c> (the DERP certificate) is on the PATH. Outside CI a problem
/// skips the tests (<see cref="TailscaleFactAttribute"/>); under <c>CI=true</c> <see cref="EnsureAvailable"/> fails them.
/// </summary>
public static class TailscaleBinaries
{
    /// <summary>Environment variable naming another directory with the four binaries and their SHA256SUMS.</summary>
    public const string DirectoryVariable = "TSNET_TAILSCALE_BIN";

    /// <summary>The daemon.</summary>
    public const string TailscaledName = "tailscaled";

    /// <summary>The CLI talking to a daemon's socket.</summary>
    public const string TailscaleName = "tailscale";

    /// <summary>The DERP relay server.</summary>
    public const string DerperName = "derper";

    /// <summary>Tailscale's in-tree test control server (with the additions described in the README).</summary>
    public const string TestControlServerName = "testcontrol-server";

    /// <summary>The four program names.</summary>
    public static readonly IReadOnlyList<string> Names = new[] { TailscaledName, TailscaleName, DerperName, TestControlServerName };

    private const string ChecksumFile = "SHA256SUMS";

    private static readonly Lazy<IReadOnlyList<string>> LazyProblems = new(FindProblems);

    /// <summary>The directory holding the binaries (it may not exist; see <see cref="Problems"/>).</summary>
    public static string Directory
    {
        get
        {
            var overridden = Environment.GetEnvironmentVariable(DirectoryVariable);
            if (!string.IsNullOrWhiteSpace(overridden))
            {
                return Path.GetFullPath(overridden);
            }

            try
            {
                return Path.GetFullPath(Path.Combine(RepositoryPaths.Root, "..", "shared", "tailscale", "bin"));
            }
            catch (InvalidOperationException)
            {
                return Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "shared", "tailscale", "bin"));
            }
        }
    }

    /// <summary>What prevents the Tailscale tests from running here (empty when they can run). Computed once.</summary>
    public static IReadOnlyList<string> Problems => LazyProblems.Value;

    /// <summary>The problems as one sentence, or null when the binaries are usable.</summary>
    public static string? UnavailableReason => Problems.Count == 0 ? null : string.Join("; ", Problems);

    /// <summary>Full path of one of the four programs.</summary>
    public static string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>Throws naming everything that is missing unless the binaries are usable. Call at the start of every Tailscale test.</summary>
    public static void EnsureAvailable()
    {
        if (UnavailableReason is not { } reason)
        {
            return;
        }

        var context = InteropEnvironment.IsCi
            ? "CI=true, so the Tailscale interop tests must run, but the real Tailscale binaries are not usable"
            : "the real Tailscale binaries are not usable";
        throw new InvalidOperationException(
            $"{context}: {reason}. They are expected in {Directory} ({string.Join(", ", Names)} and {ChecksumFile}; " +
            $"set {DirectoryVariable} to use another directory), and openssl on the PATH (see .ci/run).");
    }

    private static IReadOnlyList<string> FindProblems()
    {
        var problems = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            problems.Add("not Linux (the binaries are Linux x86-64)");
            return problems;
        }

        var directory = Directory;
        if (!System.IO.Directory.Exists(directory))
        {
            problems.Add($"directory {directory} does not exist");
            return problems;
        }

        var expected = ReadChecksums(Path.Combine(directory, ChecksumFile), problems);
        foreach (var name in Names)
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path))
            {
                problems.Add($"{path} is missing");
                continue;
            }

            if ((File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
            {
                problems.Add($"{path} is not executable");
            }

            if (expected is null)
            {
                continue;
            }

            if (!expected.TryGetValue(name, out var sum))
            {
                problems.Add($"{ChecksumFile} has no line for {name}");
            }
            else if (!string.Equals(sum, Sha256Of(path), StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{path} does not match its SHA-256 in {ChecksumFile}");
            }
        }

        if (InteropEnvironment.ResolveTool("openssl") is null)
        {
            problems.Add("openssl is not installed (the DERP server's certificate)");
        }

        return problems;
    }

    private static Dictionary<string, string>? ReadChecksums(string path, List<string> problems)
    {
        if (!File.Exists(path))
        {
            problems.Add($"{path} is missing");
            return null;
        }

        var sums = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path))
        {
            // sha256sum format: "<64 hex>  <name>" (a '*' before the name marks binary mode).
            var fields = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 2)
            {
                sums[fields[1].Trim().TrimStart('*')] = fields[0];
            }
        }

        return sums;
    }

    private static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }
}
