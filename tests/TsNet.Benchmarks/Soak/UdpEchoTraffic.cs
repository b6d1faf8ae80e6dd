using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;

namespace TsNet.Benchmarks.Soak;

/// <summary>
/// The soak's UDP load: an echo server on every node and one client per node pair (A→B, A→C, B→C) sending numbered
/// datagrams of random size at <see cref="SoakOptions.UdpRate"/>; every echo is checked (number and content). A
/// datagram whose echo has not come back when its slot in the fixed-size ring is reused, or at the end, is lost; losses
/// on the churned pair during a churn window are counted apart.
/// </summary>
internal sealed class UdpEchoTraffic
{
    /// <summary>The echo servers' port.</summary>
    public const int Port = 7200;

    private const int ClientPortBase = 7300;
    private const int HeaderBytes = 16;
    private const int MinDatagram = 64;
    private const int MaxDatagram = 1200;

    private readonly SoakMesh _mesh;
    private readonly PeerChurn _churn;
    private readonly SoakOptions _options;
    private readonly List<TailnetUdpSocket> _sockets = [];
    private readonly List<Task> _servers = [];
    private readonly List<EchoPair> _pairs = [];
    private long _serverErrors;

    public UdpEchoTraffic(SoakMesh mesh, PeerChurn churn, SoakOptions options)
    {
        _mesh = mesh;
        _churn = churn;
        _options = options;
    }

    /// <summary>Echo totals over all pairs.</summary>
    public UdpEchoCounts Totals => _pairs.Aggregate(new UdpEchoCounts(), (sum, pair) => sum + pair.Counts);

    /// <summary>Echo servers' receive or send errors.</summary>
    public long ServerErrors => Interlocked.Read(ref _serverErrors);

    /// <summary>Binds the echo servers and the clients' sockets.</summary>
    public async Task StartAsync(CancellationToken hardStop)
    {
        foreach (var node in _mesh.Nodes)
        {
            var socket = await node.Server.BindUdpAsync(Port, hardStop);
            _sockets.Add(socket);
            _servers.Add(Task.Run(() => EchoAsync(socket, hardStop)));
        }

        var nodes = _mesh.Nodes;
        var index = 0;
        foreach (var (from, to) in new[] { (nodes[0], nodes[1]), (nodes[0], nodes[2]), (nodes[1], nodes[2]) })
        {
            var socket = await from.Server.BindUdpAsync(ClientPortBase + index, hardStop);
            _sockets.Add(socket);
            _pairs.Add(new EchoPair(from, to, socket, _churn.IsChurnedPair(from, to), _options.Seed + index));
            index++;
        }
    }

    /// <summary>Sends until <paramref name="stopSending"/>, waits a few seconds for the last echoes, then judges the rest lost.</summary>
    public async Task RunAsync(CancellationToken stopSending, CancellationToken hardStop)
    {
        var receivers = _pairs.Select(pair => Task.Run(() => ReceiveEchoesAsync(pair, hardStop))).ToList();
        await Task.WhenAll(_pairs.Select(pair => Task.Run(() => SendAsync(pair, stopSending))));
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3), hardStop);
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var pair in _pairs)
        {
            pair.JudgeOutstanding(_churn);
        }

        foreach (var socket in _sockets)
        {
            await socket.DisposeAsync();
        }

        await Task.WhenAll(receivers.Concat(_servers)).WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task EchoAsync(TailnetUdpSocket socket, CancellationToken hardStop)
    {
        var buffer = new byte[2048];
        while (!hardStop.IsCancellationRequested)
        {
            try
            {
                var received = await socket.ReceiveFromAsync(buffer, hardStop);
                await socket.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), (IPEndPoint)received.RemoteEndPoint, hardStop);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or InvalidOperationException)
            {
                // A reply to a peer being churned has no route for a moment.
                Interlocked.Increment(ref _serverErrors);
            }
        }
    }

    private async Task SendAsync(EchoPair pair, CancellationToken stopSending)
    {
        var random = new Random(pair.Seed);
        var datagram = new byte[MaxDatagram];
        var destination = new IPEndPoint(pair.To.Address, Port);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / _options.UdpRate));
        try
        {
            while (await timer.WaitForNextTickAsync(stopSending))
            {
                var length = random.Next(MinDatagram, MaxDatagram + 1);
                var sequence = pair.Register(Stopwatch.GetTimestamp(), _churn);
                Fill(datagram.AsSpan(0, length), sequence);
                try
                {
                    await pair.Socket.SendToAsync(datagram.AsMemory(0, length), destination, stopSending);
                }
                catch (Exception ex) when (ex is System.Net.Sockets.SocketException or InvalidOperationException)
                {
                    pair.SendRefused(sequence, _churn);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ReceiveEchoesAsync(EchoPair pair, CancellationToken hardStop)
    {
        var buffer = new byte[2048];
        while (true)
        {
            int received;
            try
            {
                received = (await pair.Socket.ReceiveFromAsync(buffer, hardStop)).ReceivedBytes;
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            var echo = buffer.AsSpan(0, received);
            if (received < HeaderBytes || !IsIntact(echo))
            {
                pair.Corrupt();
                continue;
            }

            pair.Echoed(BinaryPrimitives.ReadInt64LittleEndian(echo), _churn);
        }
    }

    /// <summary>Sequence number, length, then bytes derived from both (so a damaged or truncated echo shows).</summary>
    private static void Fill(Span<byte> datagram, long sequence)
    {
        BinaryPrimitives.WriteInt64LittleEndian(datagram, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(datagram[8..], datagram.Length);
        for (var i = HeaderBytes; i < datagram.Length; i++)
        {
            datagram[i] = (byte)(sequence + (i * 31));
        }
    }

    private static bool IsIntact(ReadOnlySpan<byte> datagram)
    {
        var sequence = BinaryPrimitives.ReadInt64LittleEndian(datagram);
        if (BinaryPrimitives.ReadInt64LittleEndian(datagram[8..]) != datagram.Length)
        {
            return false;
        }

        for (var i = HeaderBytes; i < datagram.Length; i++)
        {
            if (datagram[i] != (byte)(sequence + (i * 31)))
            {
                return false;
            }
        }

        return true;
    }
}
