using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TsNet.WireGuard.Protocol;
using TsNet.WireGuard.Relay;

namespace TsNet.Benchmarks.Relay;

/// <summary>
/// <c>TsNet.Benchmarks relay [--endpoints 10000] [--pairs 2] [--seconds 5] [--size 1200]</c>: the UDP relay server
/// under load, in one process over loopback UDP.
/// (a) Memory: allocates N endpoints and prints managed heap and working set growth per endpoint.
/// (b) Forwarding: P client pairs bind with the real three-way handshake (<see cref="RelayHandshakeClient"/>), then one
/// side of each pair blasts datagrams of the given size (Geneve header included) through the relay for the given time;
/// prints datagrams/s and Mbit/s delivered to the other side. Then the same blast through a plain UDP forwarder (receive,
/// look up the destination by source port, send — no relay logic) as a baseline, and the ratio relay/baseline.
/// </summary>
internal static class RelayBenchCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        int endpoints = 10_000, pairs = 2, seconds = 5, size = 1200, rounds = 2;
        for (var i = 0; i < args.Length - 1; i += 2)
        {
            var value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--endpoints": endpoints = value; break;
                case "--pairs": pairs = value; break;
                case "--seconds": seconds = value; break;
                case "--size": size = value; break;
                case "--rounds": rounds = value; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        Console.WriteLine($"relay benchmark: endpoints={endpoints} pairs={pairs} seconds={seconds} size={size} rounds={rounds} cores={Environment.ProcessorCount}");
        await MeasureMemoryAsync(endpoints);

        // Rounds alternate which forwarder goes first, so a change in background load does not favour one of them.
        var relay = new List<(ForwardingResult Blast, ForwardingResult Windowed)>();
        var baseline = new List<(ForwardingResult Blast, ForwardingResult Windowed)>();
        for (var round = 0; round < rounds; round++)
        {
            if (round % 2 == 0)
            {
                relay.Add(await MeasureRelayForwardingAsync(pairs, seconds, size));
                baseline.Add(await MeasureBaselineForwardingAsync(pairs, seconds, size));
            }
            else
            {
                baseline.Add(await MeasureBaselineForwardingAsync(pairs, seconds, size));
                relay.Add(await MeasureRelayForwardingAsync(pairs, seconds, size));
            }
        }

        static double Mean(IEnumerable<ForwardingResult> results) => results.Average(r => r.PacketsPerSecond);
        double relayOpen = Mean(relay.Select(r => r.Blast)), baseOpen = Mean(baseline.Select(r => r.Blast));
        double relayClosed = Mean(relay.Select(r => r.Windowed)), baseClosed = Mean(baseline.Select(r => r.Windowed));
        Console.WriteLine($"mean over {rounds} rounds: open loop relay {relayOpen:0} / baseline {baseOpen:0} datagrams/s = {relayOpen / baseOpen:0.00}; " +
            $"closed loop relay {relayClosed:0} ({relayClosed * size * 8 / 1e6:0} Mbit/s) / baseline {baseClosed:0} ({baseClosed * size * 8 / 1e6:0} Mbit/s) datagrams/s = {relayClosed / baseClosed:0.00}");
        return 0;
    }

    private static async Task MeasureMemoryAsync(int count)
    {
        // Keys are made before measuring: a real relay receives them, it does not hold their generation's garbage.
        var keys = Enumerable.Range(0, 2 * count).Select(_ => DiscoKey.Generate().PublicKey).ToArray();
        var options = new UdpRelayServerOptions { BindAddresses = { IPAddress.Loopback }, BindLifetime = TimeSpan.FromHours(1) };
        await using var server = await UdpRelayServer.StartAsync(options);
        server.AllocateEndpoint(DiscoKey.Generate().PublicKey, DiscoKey.Generate().PublicKey); // warm up code paths
        Collect();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var workingSetBefore = Environment.WorkingSet;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            server.AllocateEndpoint(keys[2 * i], keys[(2 * i) + 1]);
        }

        var elapsed = clock.Elapsed;
        Collect();
        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        var workingSetAfter = Environment.WorkingSet;
        Console.WriteLine(
            $"memory: {server.EndpointCount - 1} endpoints allocated in {elapsed.TotalMilliseconds:0} ms ({count / elapsed.TotalSeconds:0} allocations/s); " +
            $"managed heap +{(heapAfter - heapBefore) / 1024.0:0} KiB = {(double)(heapAfter - heapBefore) / count:0} B/endpoint; " +
            $"working set +{(workingSetAfter - workingSetBefore) / 1024.0:0} KiB = {(double)(workingSetAfter - workingSetBefore) / count:0} B/endpoint");
        GC.KeepAlive(keys);
    }

    private static async Task<(ForwardingResult Blast, ForwardingResult Windowed)> MeasureRelayForwardingAsync(int pairs, int seconds, int size)
    {
        var options = new UdpRelayServerOptions { BindAddresses = { IPAddress.Loopback } };
        await using var server = await UdpRelayServer.StartAsync(options);
        var clients = new List<(Socket Sender, Socket Receiver, byte[] Datagram)>();
        try
        {
            for (var i = 0; i < pairs; i++)
            {
                var a = new Client();
                var b = new Client();
                var endpoint = server.AllocateEndpoint(a.Key.PublicKey, b.Key.PublicKey);
                var handshakeA = a.Bind(endpoint, b.Key.PublicKey);
                b.Bind(endpoint, a.Key.PublicKey);
                var datagram = new byte[size];
                handshakeA.WrapWireGuard(new byte[size - GeneveHeader.Length], datagram);
                a.Socket.Connect(endpoint.AddressPorts[0]);
                b.Socket.Connect(endpoint.AddressPorts[0]);
                clients.Add((a.Socket, b.Socket, datagram));
            }

            for (var clock = Stopwatch.StartNew(); server.GetCounters().LegsBound < 2 * pairs; )
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(10))
                {
                    throw new TimeoutException("the relay did not bind every leg");
                }

                await Task.Delay(10);
            }

            var blast = Blast(clients, seconds, size);
            Console.WriteLine($"relay    open loop:   {blast}");
            var windowed = Windowed(clients, seconds, size);
            Console.WriteLine($"relay    closed loop: {windowed}");
            var counters = server.GetCounters();
            Console.WriteLine($"relay counters: forwarded={counters.ForwardedPackets} drops={counters.TotalDrops} sendFailures={counters.SendFailures}");
            return (blast, windowed);
        }
        finally
        {
            foreach (var (sender, receiver, _) in clients)
            {
                sender.Dispose();
                receiver.Dispose();
            }
        }
    }

    private static async Task<(ForwardingResult Blast, ForwardingResult Windowed)> MeasureBaselineForwardingAsync(int pairs, int seconds, int size)
    {
        await using var forwarder = PlainUdpForwarder.Start();
        var clients = new List<(Socket Sender, Socket Receiver, byte[] Datagram)>();
        try
        {
            for (var i = 0; i < pairs; i++)
            {
                var a = new Client();
                var b = new Client();
                forwarder.Map((IPEndPoint)a.Socket.LocalEndPoint!, (IPEndPoint)b.Socket.LocalEndPoint!);
                forwarder.Map((IPEndPoint)b.Socket.LocalEndPoint!, (IPEndPoint)a.Socket.LocalEndPoint!);
                a.Socket.Connect(forwarder.LocalEndPoint);
                b.Socket.Connect(forwarder.LocalEndPoint);
                clients.Add((a.Socket, b.Socket, new byte[size]));
            }

            var blast = Blast(clients, seconds, size);
            Console.WriteLine($"baseline open loop:   {blast}");
            var windowed = Windowed(clients, seconds, size);
            Console.WriteLine($"baseline closed loop: {windowed}");
            return (blast, windowed);
        }
        finally
        {
            foreach (var (sender, receiver, _) in clients)
            {
                sender.Dispose();
                receiver.Dispose();
            }
        }
    }

    // One thread per sender (blocking sends as fast as the kernel takes them) and per receiver; counts what arrives
    // during the measured window, after a half-second warm-up.
    private static ForwardingResult Blast(List<(Socket Sender, Socket Receiver, byte[] Datagram)> clients, int seconds, int size)
    {
        var stop = false;
        var received = new long[clients.Count];
        long sent = 0;
        var threads = new List<Thread>();
        for (var i = 0; i < clients.Count; i++)
        {
            var (sender, receiver, datagram) = clients[i];
            var index = i;
            receiver.ReceiveTimeout = 200;
            threads.Add(new Thread(() =>
            {
                var buffer = new byte[65536];
                while (!Volatile.Read(ref stop))
                {
                    try
                    {
                        if (receiver.Receive(buffer) > 0)
                        {
                            Interlocked.Increment(ref received[index]);
                        }
                    }
                    catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
                    {
                    }
                }
            }) { IsBackground = true, Name = "receiver" + i });
            threads.Add(new Thread(() =>
            {
                long count = 0;
                while (!Volatile.Read(ref stop))
                {
                    try
                    {
                        sender.Send(datagram);
                        count++;
                    }
                    catch (SocketException)
                    {
                        // ENOBUFS or a refused port under overload: keep blasting.
                    }
                }

                Interlocked.Add(ref sent, count);
            }) { IsBackground = true, Name = "sender" + i });
        }

        threads.ForEach(t => t.Start());
        Thread.Sleep(500); // warm-up before the measured window (the benchmark's clock, not synchronisation)
        long Delivered() => received.Sum(r => Interlocked.Read(ref r));
        var startCount = Delivered();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(TimeSpan.FromSeconds(seconds));
        var delivered = Delivered() - startCount;
        var elapsed = clock.Elapsed;
        Volatile.Write(ref stop, true);
        threads.ForEach(t => t.Join());
        DrainQueued(clients);
        return new ForwardingResult(delivered / elapsed.TotalSeconds, delivered * size * 8 / elapsed.TotalSeconds / 1e6, Interlocked.Read(ref sent), Delivered());
    }

    // Closed loop: side A keeps a window of datagrams in flight, side B bounces each one back through the forwarder,
    // and A sends a new one per datagram returned (or when none returned within 200 ms, replacing a lost one). No
    // sender outruns the forwarder, so on a small machine the figure is the forwarder's cost rather than how the
    // scheduler shares the cores between blasting senders and the forwarder. Counts forwarded datagrams (two per
    // round trip).
    private static ForwardingResult Windowed(List<(Socket Sender, Socket Receiver, byte[] Datagram)> clients, int seconds, int size, int window = 32)
    {
        var stop = false;
        var roundTrips = new long[clients.Count];
        long sent = 0;
        var threads = new List<Thread>();
        for (var i = 0; i < clients.Count; i++)
        {
            var (a, b, datagram) = clients[i];
            var index = i;
            a.ReceiveTimeout = 200;
            b.ReceiveTimeout = 200;
            threads.Add(new Thread(() =>
            {
                var buffer = new byte[65536];
                while (!Volatile.Read(ref stop))
                {
                    try
                    {
                        var length = b.Receive(buffer);
                        b.Send(buffer.AsSpan(0, length));
                    }
                    catch (SocketException)
                    {
                    }
                }
            }) { IsBackground = true, Name = "bouncer" + i });
            threads.Add(new Thread(() =>
            {
                var buffer = new byte[65536];
                long count = 0;
                for (var w = 0; w < window; w++)
                {
                    a.Send(datagram);
                    count++;
                }

                while (!Volatile.Read(ref stop))
                {
                    try
                    {
                        a.Receive(buffer);
                        Interlocked.Increment(ref roundTrips[index]);
                    }
                    catch (SocketException)
                    {
                    }

                    try
                    {
                        a.Send(datagram);
                        count++;
                    }
                    catch (SocketException)
                    {
                    }
                }

                Interlocked.Add(ref sent, count);
            }) { IsBackground = true, Name = "windowed" + i });
        }

        threads.ForEach(t => t.Start());
        Thread.Sleep(500);
        long Done() => roundTrips.Sum(r => Interlocked.Read(ref r));
        var startCount = Done();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(TimeSpan.FromSeconds(seconds));
        var forwarded = 2 * (Done() - startCount);
        var elapsed = clock.Elapsed;
        Volatile.Write(ref stop, true);
        threads.ForEach(t => t.Join());
        DrainQueued(clients);
        return new ForwardingResult(forwarded / elapsed.TotalSeconds, forwarded * size * 8 / elapsed.TotalSeconds / 1e6, Interlocked.Read(ref sent), Done());
    }

    // Datagrams still queued after a measurement would be counted by the next one.
    private static void DrainQueued(List<(Socket Sender, Socket Receiver, byte[] Datagram)> clients)
    {
        var buffer = new byte[65536];
        foreach (var socket in clients.SelectMany(c => new[] { c.Sender, c.Receiver }))
        {
            while (socket.Available > 0)
            {
                socket.Receive(buffer);
            }
        }
    }

    private static void Collect()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
    }

    private sealed record ForwardingResult(double PacketsPerSecond, double MegabitsPerSecond, long Sent, long Delivered)
    {
        public override string ToString() =>
            $"{PacketsPerSecond:0} datagrams/s, {MegabitsPerSecond:0.0} Mbit/s delivered (in total {Delivered} of {Sent} sent datagrams arrived, {100.0 * Delivered / Math.Max(1, Sent):0.0}%)";
    }

    /// <summary>A relay client: a loopback UDP socket and a disco key.</summary>
    private sealed class Client
    {
        public Client()
        {
            Socket.ReceiveBufferSize = 4 * 1024 * 1024;
            Socket.SendBufferSize = 4 * 1024 * 1024;
            Socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        }

        public DiscoKey Key { get; } = DiscoKey.Generate();

        public Socket Socket { get; } = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

        // Bind → Challenge → Answer with blocking I/O (a 5 s receive timeout bounds a lost datagram).
        public RelayHandshakeClient Bind(RelayEndpoint endpoint, DiscoKey remote)
        {
            var handshake = new RelayHandshakeClient(Key.Bytes, endpoint.ServerDisco, remote, endpoint.Vni, generation: 1);
            var bind = new byte[RelayHandshakeClient.HandshakeDatagramLength];
            Socket.SendTo(bind.AsSpan(0, handshake.WriteBind(bind)), endpoint.AddressPorts[0]);
            Socket.ReceiveTimeout = 5000;
            var buffer = new byte[2048];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            var length = Socket.ReceiveFrom(buffer, ref from);
            var answer = new byte[RelayHandshakeClient.HandshakeDatagramLength];
            var answerLength = handshake.HandleChallenge(buffer.AsSpan(0, length), UnderlayAddress.FromIPEndPoint((IPEndPoint)from), answer);
            if (answerLength == 0)
            {
                throw new InvalidOperationException("the relay's Challenge was not accepted");
            }

            Socket.SendTo(answer.AsSpan(0, answerLength), from);
            return handshake;
        }
    }
}
