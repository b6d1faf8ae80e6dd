using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using TsNet.Packets.Buffers;

namespace TsNet.Benchmarks;

/// <summary>
/// <c>TsNet.Benchmarks queue-cost [--packets 20000000] [--batch 32]</c>: what a packet costs to cross from one loop to
/// the other through a bounded channel — one packet per item (today's <c>ToWireGuard</c>/<c>FromWireGuard</c>) versus
/// one batch of <c>--batch</c> packets per item (design §1's <c>Channel&lt;PacketBatch&gt;</c>) — with a producer and a
/// consumer thread running flat out, as the loops do under load (on a busy machine this mostly measures the
/// scheduler), and — free of that noise — on one thread that fills and drains the channel (<c>-uncontended</c>). Both
/// channels hold 1024 packets. Output: <c>mode=M packets=N ns/packet=X</c> per mode, three rounds; compare with the
/// few microseconds a packet costs end to end (crypto, TCP, UDP syscalls) to judge what batching could gain.
/// </summary>
internal static class QueueCostCommand
{
    private const int Capacity = 1024;

    public static int Run(string[] args)
    {
        var packets = 20_000_000;
        var batch = 32;
        for (var i = 0; i < args.Length - 1; i++)
        {
            switch (args[i])
            {
                case "--packets":
                    packets = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--batch":
                    batch = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
            }
        }

        var packet = new PacketBufferPool().Rent();
        for (var round = 0; round < 3; round++)
        {
            Report("single-uncontended", MeasureUncontended(packet, packets, 1), packets);
            Report("batch" + batch + "-uncontended", MeasureUncontended(packet, packets, batch), packets);
            Report("single", MeasureSingle(packet, packets), packets);
            Report("batch" + batch, MeasureBatched(packet, packets, batch), packets);
        }

        return 0;
    }

    private static void Report(string mode, TimeSpan elapsed, int packets) =>
        Console.WriteLine($"mode={mode} packets={packets} ns/packet={(elapsed.TotalNanoseconds / packets).ToString("F1", CultureInfo.InvariantCulture)}");

    /// <summary>
    /// The channel's own CPU cost, free of scheduling noise: one thread fills the channel and drains it, as a loop
    /// drains a queue that filled while it was busy. With <paramref name="batch"/> &gt; 1 each item carries that many
    /// packets (a reused array, as a pooled batch would be).
    /// </summary>
    private static TimeSpan MeasureUncontended(PacketBuffer packet, int packets, int batch)
    {
        var items = new PacketBuffer[batch];
        items.AsSpan().Fill(packet);
        var channel = Channel.CreateBounded<PacketBuffer[]>(new BoundedChannelOptions(Capacity / batch) { SingleReader = true });
        var perFill = Capacity / batch;
        var fills = packets / Capacity;
        var start = Stopwatch.GetTimestamp();
        for (var f = 0; f < fills; f++)
        {
            for (var i = 0; i < perFill; i++)
            {
                channel.Writer.TryWrite(items);
            }

            while (channel.Reader.TryRead(out var read))
            {
                foreach (var item in read)
                {
                    _ = item.Length;
                }
            }
        }

        return Stopwatch.GetElapsedTime(start) * ((double)packets / (fills * Capacity));
    }

    private static TimeSpan MeasureSingle(PacketBuffer packet, int packets)
    {
        var channel = Channel.CreateBounded<PacketBuffer>(new BoundedChannelOptions(Capacity) { SingleReader = true });
        var start = Stopwatch.GetTimestamp();
        var consumer = new Thread(() =>
        {
            var received = 0;
            var spin = new SpinWait();
            while (received < packets)
            {
                if (channel.Reader.TryRead(out _))
                {
                    received++;
                }
                else
                {
                    spin.SpinOnce();
                }
            }
        });
        consumer.Start();
        var producerSpin = new SpinWait();
        for (var i = 0; i < packets; i++)
        {
            while (!channel.Writer.TryWrite(packet))
            {
                producerSpin.SpinOnce();
            }
        }

        consumer.Join();
        return Stopwatch.GetElapsedTime(start);
    }

    private static TimeSpan MeasureBatched(PacketBuffer packet, int packets, int batch)
    {
        // The batches circulate between the two threads through a return channel, as pooled batches would.
        var slots = Capacity / batch;
        var channel = Channel.CreateBounded<PacketBuffer[]>(new BoundedChannelOptions(slots) { SingleReader = true });
        var returned = Channel.CreateBounded<PacketBuffer[]>(new BoundedChannelOptions(slots + 1) { SingleReader = true });
        for (var i = 0; i < slots + 1; i++)
        {
            returned.Writer.TryWrite(new PacketBuffer[batch]);
        }

        var batches = packets / batch;
        var start = Stopwatch.GetTimestamp();
        var consumer = new Thread(() =>
        {
            var received = 0;
            var spin = new SpinWait();
            while (received < batches)
            {
                if (channel.Reader.TryRead(out var items))
                {
                    foreach (var item in items)
                    {
                        _ = item.Length;
                    }

                    returned.Writer.TryWrite(items);
                    received++;
                }
                else
                {
                    spin.SpinOnce();
                }
            }
        });
        consumer.Start();
        var producerSpin = new SpinWait();
        for (var i = 0; i < batches; i++)
        {
            PacketBuffer[]? items;
            while (!returned.Reader.TryRead(out items))
            {
                producerSpin.SpinOnce();
            }

            items.AsSpan().Fill(packet);
            while (!channel.Writer.TryWrite(items))
            {
                producerSpin.SpinOnce();
            }
        }

        consumer.Join();
        return Stopwatch.GetElapsedTime(start);
    }
}
