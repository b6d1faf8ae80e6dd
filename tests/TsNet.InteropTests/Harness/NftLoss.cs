using System.Globalization;
using System.Text.RegularExpressions;

namespace TsNet.InteropTests.Harness;

/// <summary>
/// Random UDP loss without netem (interop.md): an nftables table dropping a share of packets to some UDP ports on
/// the loopback INPUT hook (a drop on output makes <c>sendto</c> fail with EPERM instead). The table is named like
/// every harness resource, so a crashed run's table in the root namespace is removed by the next run; a table
/// inside a harness namespace vanishes with the namespace.
/// </summary>
public sealed partial class NftLoss : IAsyncDisposable
{
    private readonly ProcessRunner _runner;
    private readonly string? _namespace;
    private int _disposed;

    private NftLoss(ProcessRunner runner, string? netns, string table)
    {
        _runner = runner;
        _namespace = netns;
        Table = table;
    }

    /// <summary>The nft table name (family inet).</summary>
    public string Table { get; }

    /// <summary>
    /// Drops about <paramref name="percent"/> % of the UDP datagrams arriving on <c>lo</c> for <paramref name="udpPorts"/>,
    /// in namespace <paramref name="netns"/> (null: the root namespace, i.e. the host loopback between TsNet and a
    /// <see cref="WireGuardGoPeer"/>).
    /// </summary>
    public static async Task<NftLoss> AddRandomDropAsync(ProcessRunner runner, string? netns, IReadOnlyCollection<int> udpPorts, int percent)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(udpPorts);
        ArgumentOutOfRangeException.ThrowIfLessThan(percent, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        if (udpPorts.Count == 0)
        {
            throw new ArgumentException("at least one port", nameof(udpPorts));
        }

        if (InteropEnvironment.ResolveTool("nft") is null)
        {
            throw new InvalidOperationException("nft is missing (apt-get install nftables)");
        }

        var loss = new NftLoss(runner, netns, ResourceNames.Next());
        var ports = string.Join(", ", udpPorts.Select(p => p.ToString(CultureInfo.InvariantCulture)));
        // numgen's "mod 100" yields 0..99, so 100 % is an unconditional drop.
        var sample = percent >= 100 ? string.Empty : $"numgen random mod 100 < {percent.ToString(CultureInfo.InvariantCulture)} ";
        var script =
            $"table inet {loss.Table} {{\n" +
            "  chain in {\n" +
            "    type filter hook input priority 0; policy accept;\n" +
            $"    iifname \"lo\" udp dport {{ {ports} }} {sample}counter drop\n" +
            "  }\n" +
            "}\n";
        await loss.RunNftAsync(new[] { "-f", "-" }, script, check: true);
        return loss;
    }

    /// <summary>Packets dropped so far (the rule's counter).</summary>
    public async Task<long> GetDroppedPacketsAsync()
    {
        var listing = await RunNftAsync(new[] { "list", "table", "inet", Table }, null, check: true);
        var match = CounterPattern().Match(listing.StandardOutput);
        return match.Success ? long.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>Deletes the table; never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await RunNftAsync(new[] { "delete", "table", "inet", Table }, null, check: false);
        }
    }

    /// <summary>Deletes leftover harness tables in the root namespace whose owner <paramref name="selectOwner"/> picks.</summary>
    public static async Task<int> CleanRootTablesAsync(ProcessRunner runner, Func<int, bool> selectOwner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        if (InteropEnvironment.ResolveTool("nft") is null)
        {
            return 0;
        }

        var removed = 0;
        var tables = await runner.RunAsync("nft", new[] { "list", "tables" }, TimeSpan.FromSeconds(10), quiet: true);
        foreach (var line in tables.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // "table inet tsnit00abc01"
            var fields = line.Split(' ');
            if (fields.Length == 3 && fields[0] == "table" && ResourceNames.TryParseOwner(fields[2], out var owner) && selectOwner(owner))
            {
                runner.Log.Write($"cleanup: deleting nft table {fields[1]} {fields[2]}");
                await runner.RunAsync("nft", new[] { "delete", "table", fields[1], fields[2] }, TimeSpan.FromSeconds(10));
                removed++;
            }
        }

        return removed;
    }

    private async Task<CommandResult> RunNftAsync(string[] args, string? input, bool check)
    {
        var result = _namespace is null
            ? await _runner.RunAsync("nft", args, TimeSpan.FromSeconds(10), input)
            : await _runner.RunAsync("ip", new[] { "netns", "exec", _namespace, "nft" }.Concat(args).ToArray(), TimeSpan.FromSeconds(10), input);
        return check ? result.EnsureSuccess() : result;
    }

    [GeneratedRegex(@"counter packets (\d+)")]
    private static partial Regex CounterPattern();
}
