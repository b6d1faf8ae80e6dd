using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using TsNet.Packets.Buffers;

namespace TsNet.Benchmarks;

/// <summary>
/// <c>TsNet.Benchmarks queue-cost [--packets 20000000] [--batch 32]</c>: what a packet costs to cross from one loop to
/// the other through a bounded channel — one packet per item (today's <c>ToWireGuard</c>/<c>FromWireGuard</c>) versus
/// one batch of <c>--batch</c> packets per item (design §1's <c>Channel&lt;PacketBatch&gt;</c>) — with a producer and a
/// consumer thread running flat out, as the loops do under load. Both channels hold 1024 packets. Output:
/// <c>mode=single ns/packet=X</c> and <c>mode=batch32 ns/packet=Y</c>; compare with the few microseconds a packet costs
/// end to end (crypto, TCP, UDP syscalls) to judge what batching could gain.
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
            Report("single", MeasureSingle(packet, packets), packets);
            Report("batch" + batch, MeasureBatched(packet, packets, batch), packets);
        }

        return 0;
    }

    private static void Report(string mode, TimeSpan elapsed, int packets) =>
        Console.WriteLine($"mode={mode} packets={packets} ns/packet={(elapsed.TotalNanoseconds / packets).ToString("F1", CultureInfo.InvariantCulture)}");

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
