using System.Collections.Concurrent;

namespace TsNet.InteropTests.Harness;

/// <summary>
/// Whether this machine can run the interop tests: Linux, root, <c>/dev/net/tun</c>, and the tools
/// (<c>wireguard-go</c>, <c>wg</c>, <c>ip</c>, <c>ping</c>). Under <c>CI=true</c> the tests never skip and
/// <see cref="EnsureReady"/> fails them loudly instead.
/// </summary>
public static class InteropEnvironment
{
    /// <summary>Tools every interop test needs.</summary>
    public static readonly IReadOnlyList<string> RequiredTools = new[] { "wireguard-go", "wg", "ip", "ping" };

    private static readonly string[] ExtraSearchDirectories = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
    private static readonly ConcurrentDictionary<string, string?> ToolPaths = new(StringComparer.Ordinal);
    private static readonly Lazy<IReadOnlyList<string>> LazyProblems = new(FindProblems);

    /// <summary>True when the environment variable <c>CI</c> is <c>true</c> (any case).</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>What prevents the tests from running here (empty when ready).</summary>
    public static IReadOnlyList<string> Problems => LazyProblems.Value;

    /// <summary>True when nothing prevents the tests from running.</summary>
    public static bool IsReady => Problems.Count == 0;

    /// <summary>The problems as one sentence, or null when ready.</summary>
    public static string? UnavailableReason => IsReady ? null : string.Join("; ", Problems);

    /// <summary>Throws a descriptive exception unless the environment is ready. Call at the start of every interop test.</summary>
    public static void EnsureReady()
    {
        if (IsReady)
        {
            return;
        }

        var context = IsCi
            ? "CI=true, so the interop tests must run, but this environment cannot run them"
            : "the interop environment is not ready";
        throw new InvalidOperationException(
            $"{context}: {UnavailableReason}. They need root, /dev/net/tun and the packages wireguard-go wireguard-tools iproute2 iputils-ping (see .ci/run).");
    }

    /// <summary>The tools of <paramref name="tools"/> that are not installed (empty when all are).</summary>
    public static IReadOnlyList<string> MissingTools(IEnumerable<string> tools) => tools.Where(tool => ResolveTool(tool) is null).ToList();

    /// <summary>
    /// Like <see cref="EnsureReady"/>, plus the extra tools a test needs (e.g. <c>socat</c>, <c>curl</c>, <c>nft</c>);
    /// throws naming the missing ones. Pair with <see cref="InteropFactAttribute.Requires"/>, which skips outside CI.
    /// </summary>
    public static void EnsureTools(params string[] tools)
    {
        EnsureReady();
        var missing = MissingTools(tools);
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"missing tools: {string.Join(", ", missing)}; install their packages (see .ci/run)");
        }
    }

    /// <summary>Full path of a tool found on PATH or in the usual system directories; null when missing.</summary>
    public static string? ResolveTool(string name)
    {
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(name) ? name : null;
        }

        return ToolPaths.GetOrAdd(name, static tool =>
        {
            var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
            foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(ExtraSearchDirectories))
            {
                var candidate = Path.Combine(directory, tool);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        });
    }

    /// <summary>The effective uid of this process (from /proc/self/status), or null when unknown.</summary>
    public static int? EffectiveUserId()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                    return fields.Length > 2 && int.TryParse(fields[2], out var uid) ? uid : null;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static IReadOnlyList<string> FindProblems()
    {
        var problems = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            problems.Add("not Linux");
            return problems;
        }

        var uid = EffectiveUserId();
        if (uid != 0)
        {
            problems.Add($"not root (effective uid {uid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"})");
        }

        if (!File.Exists("/dev/net/tun"))
        {
            problems.Add("/dev/net/tun is missing");
        }

        var missing = RequiredTools.Where(tool => ResolveTool(tool) is null).ToList();
        if (missing.Count > 0)
        {
            problems.Add("missing tools: " + string.Join(", ", missing));
        }

        return problems;
    }
}
