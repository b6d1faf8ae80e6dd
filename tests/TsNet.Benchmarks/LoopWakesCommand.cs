using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Dataplane;
using TsNet.Netstack;
using TsNet.Packets.Buffers;
using TsNet.WireGuard.Protocol;

namespace TsNet.Benchmarks;

/// <summary>
/// <c>TsNet.Benchmarks loop-wakes [--wakes 20000]</c>: managed bytes allocated per wake-up of an idle loop, for the
/// netstack loop and the dataplane loop. Each wake is one malformed packet written into the loop's inbound queue
/// (the core drops and counts it, so nothing else runs); the driver waits for the drop to be counted and then for
/// the loop to go back to sleep before the next one, so every packet is a real park-and-wake. Allocations are
/// counted process-wide (<see cref="GC.GetTotalAllocatedBytes"/>), so the loop task's allocations are seen; the
/// driver itself allocates nothing per wake (pooled buffers, busy-wait).
/// Output: <c>loop=netstack wakes=N bytes/wake=B</c>, then the same for <c>loop=dataplane</c>.
/// </summary>
internal static class LoopWakesCommand
{
    /// <summary>Wakes before measuring: JIT, tiering and the pools settle.</summary>
    private const int Warmup = 2_000;

    /// <summary>How long the driver lets a loop reach its wait after it counted a packet (the rest of one iteration).</summary>
    private static readonly TimeSpan s_settle = TimeSpan.FromMicroseconds(200);

    public static async Task<int> RunAsync(string[] args)
    {
        var wakes = 20_000;
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--wakes")
            {
                wakes = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
        }

        var pool = new PacketBufferPool();
        await MeasureNetstackAsync(pool, wakes).ConfigureAwait(false);
        await MeasureDataplaneAsync(pool, wakes).ConfigureAwait(false);
        return 0;
    }

    private static async Task MeasureNetstackAsync(PacketBufferPool pool, int wakes)
    {
        var fromWireGuard = Channel.CreateBounded<PacketBuffer>(new BoundedChannelOptions(1024) { SingleReader = true });
        var toWireGuard = Channel.CreateBounded<PacketBuffer>(new BoundedChannelOptions(1024) { SingleReader = true });
        var netstack = new NetstackLoop(
            new NetstackOptions
            {
                Addresses = [IPAddress.Parse("100.64.0.1")],
                Pool = pool,
                TimestampFrequency = TimeSpan.TicksPerSecond,
            },
            fromWireGuard.Reader,
            toWireGuard.Writer,
            TimeProvider.System);
        netstack.Start();
        try
        {
            var bytes = Measure(wakes, pool, fromWireGuard.Writer, () => netstack.Counters.TotalDropped);
            Console.WriteLine($"loop=netstack wakes={wakes} bytes/wake={bytes.ToString("F1", CultureInfo.InvariantCulture)}");
        }
        finally
        {
            await netstack.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task MeasureDataplaneAsync(PacketBufferPool pool, int wakes)
    {
        var core = new WireGuardEndpoint(new WireGuardEndpointOptions
        {
            PrivateKey = WireGuardKey.Generate().Bytes.ToArray(),
            Pool = pool,
        });
        var toNetstack = Channel.CreateBounded<PacketBuffer>(new BoundedChannelOptions(1024) { SingleReader = true });
        var dataplane = new DataplaneLoop(
            core,
            1024,
            toNetstack.Writer,
            (writer, onReceived, port) => UdpUnderlay.Bind(port, pool, writer, onReceived, NullLogger.Instance),
            0,
            TimeProvider.System,
            NullLogger.Instance);
        dataplane.Start();
        try
        {
            var bytes = Measure(wakes, pool, dataplane.ToWireGuard, () => core.Counters.TotalDrops);
            Console.WriteLine($"loop=dataplane wakes={wakes} bytes/wake={bytes.ToString("F1", CultureInfo.InvariantCulture)}");
        }
        finally
        {
            await dataplane.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Runs warm-up plus <paramref name="wakes"/> wakes; returns bytes allocated per measured wake.</summary>
    private static double Measure(int wakes, PacketBufferPool pool, ChannelWriter<PacketBuffer> inbound, Func<long> dropped)
    {
        long before = 0;
        var start = dropped();
        for (var i = 0; i < Warmup + wakes; i++)
        {
            if (i == Warmup)
            {
                before = GC.GetTotalAllocatedBytes(precise: true);
            }

            // Twenty zero bytes: IP version 0, which either core drops as malformed.
            var packet = pool.Rent();
            packet.Append(20).Clear();
            if (!inbound.TryWrite(packet))
            {
                packet.Return();
                throw new InvalidOperationException("The loop's inbound queue is full.");
            }

            var target = start + i + 1;
            var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 10;
            while (dropped() < target)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    throw new TimeoutException($"The loop did not count packet {i} within 10 s.");
                }
            }

            var settled = Stopwatch.GetTimestamp() + (long)(s_settle.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < settled)
            {
            }
        }

        return (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / wakes;
    }
}
