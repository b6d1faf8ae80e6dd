using System.Globalization;
using System.Text.RegularExpressions;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// Cuts the direct UDP path between two nodes on this host: an nftables table (own name from
/// <see cref="ResourceNames"/>) dropping every UDP datagram on <c>lo</c> from one node's port to the other's, in both
/// directions, on the INPUT hook (a drop on output makes <c>sendto</c> fail with EPERM, which a node could notice).
/// Every local address of the host arrives on <c>lo</c>, so the endpoints a node reports (127.0.0.1, the host's
/// interface addresses, IPv6) are all covered, while STUN (derper's port) and DERP (TCP) pass. Dispose deletes the
/// table (never throws); a crashed run's table is removed by the next run's leftover cleaning (its name parses as
/// a harness resource).
/// </summary>
public sealed partial class UdpPathBlock : IAsyncDisposable
{
    private readonly ProcessRunner _runner;
    private int _removed;

    private UdpPathBlock(ProcessRunner runner, string table, int portA, int portB)
    {
        _runner = runner;
        Table = table;
        PortA = portA;
        PortB = portB;
    }

    /// <summary>The nft table name (family inet).</summary>
    public string Table { get; }

    /// <summary>One node's UDP port.</summary>
    public int PortA { get; }

    /// <summary>The other node's UDP port.</summary>
    public int PortB { get; }

    /// <summary>Adds the table: from now on no UDP datagram between <paramref name="portA"/> and <paramref name="portB"/> arrives.</summary>
    public static async Task<UdpPathBlock> AddAsync(ProcessRunner runner, int portA, int portB, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        if (portA == portB)
        {
            throw new ArgumentException("two different ports", nameof(portB));
        }

        if (InteropEnvironment.ResolveTool("nft") is null)
        {
            throw new InvalidOperationException("nft is missing (apt-get install nftables)");
        }

        var block = new UdpPathBlock(runner, ResourceNames.Next(), portA, portB);
        var a = portA.ToString(CultureInfo.InvariantCulture);
        var b = portB.ToString(CultureInfo.InvariantCulture);
        var script =
            $"table inet {block.Table} {{\n" +
            "  chain in {\n" +
            "    type filter hook input priority 0; policy accept;\n" +
            $"    iifname \"lo\" udp sport {a} udp dport {b} counter drop\n" +
            $"    iifname \"lo\" udp sport {b} udp dport {a} counter drop\n" +
            "  }\n" +
            "}\n";
        (await runner.RunAsync("nft", new[] { "-f", "-" }, TimeSpan.FromSeconds(10), script, cancellationToken: cancellationToken)).EnsureSuccess();
        runner.Log.Write($"nft table {block.Table}: dropping UDP between ports {a} and {b} on lo");
        return block;
    }

    /// <summary>Datagrams dropped so far (both rules' counters).</summary>
    public async Task<long> GetDroppedPacketsAsync(CancellationToken cancellationToken = default)
    {
        var listing = (await _runner.RunAsync("nft", new[] { "list", "table", "inet", Table }, TimeSpan.FromSeconds(10), quiet: true, cancellationToken: cancellationToken)).EnsureSuccess();
        return CounterPattern().Matches(listing.StandardOutput).Sum(match => long.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture));
    }

    /// <summary>Deletes the table now (the path is open again); idempotent, never throws.</summary>
    public async Task RemoveAsync()
    {
        if (Interlocked.Exchange(ref _removed, 1) == 0)
        {
            var result = await _runner.RunAsync("nft", new[] { "delete", "table", "inet", Table }, TimeSpan.FromSeconds(10));
            if (!result.Succeeded)
            {
                _runner.Log.Write($"nft table {Table} could not be deleted: {result}");
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await RemoveAsync();

    [GeneratedRegex(@"counter packets (\d+)")]
    private static partial Regex CounterPattern();
}
