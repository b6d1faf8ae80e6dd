using System.Security.Cryptography;
using TsNet.Netstack.Tcp;
using TsNet.Packets;

namespace TsNet.Tests.Netstack.Tcp;

/// <summary>
/// Two TcpConnections joined by an in-memory link in virtual time: each segment is checksummed, then lost, duplicated
/// or delayed (with jitter, or an occasional extra delay, so it may be reordered) according to a seeded
/// <see cref="Random"/>, or dropped by a test's <see cref="Drop"/> rule. The client writes a
/// byte stream and shuts down; the server reads, hashes, optionally writes its own stream back
/// (<see cref="ServerBytes"/>), and shuts down when the client's FIN arrived and its own bytes are written.
/// </summary>
internal sealed class TcpLinkSimulator
{
    private static readonly TcpEndpoints ClientEndpoints = new(
        TcpAddress.FromBytes([100, 64, 0, 1]), 40000, TcpAddress.FromBytes([100, 64, 0, 2]), 443);

    private readonly Random _random;
    private readonly PriorityQueue<(bool ToServer, byte[] Segment), (long, long)> _link = new();
    private readonly byte[] _data;
    private readonly IncrementalHash _received = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _segment = new byte[1500];
    private readonly byte[] _readBuffer = new byte[16 * 1024];
    private readonly TcpConfig _config;
    private readonly InitialSequenceNumber _isn;
    private readonly IncrementalHash _clientReceived = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[] _serverData = [];
    private long _order;
    private int _written;
    private int _serverWritten;

    public TcpLinkSimulator(int seed, int bytes, TcpConfig config)
    {
        _random = new Random(seed);
        _data = new byte[bytes];
        _random.NextBytes(_data);
        _config = config;
        var secret = new byte[16];
        _random.NextBytes(secret);
        _isn = new InitialSequenceNumber(secret);
        Client = TcpConnection.Connect(ClientEndpoints, config, _isn.Generate(ClientEndpoints, 0), 0, _isn.TimestampOffset(ClientEndpoints));
    }

    public double LossRate { get; init; }

    public double DuplicateRate { get; init; }

    public long BaseDelay { get; init; } = TimeSpan.FromMilliseconds(10).Ticks;

    public long Jitter { get; init; } = TimeSpan.FromMilliseconds(10).Ticks;

    /// <summary>Fraction of segments held back by <see cref="ReorderDelay"/> on top of the base delay (so later ones overtake them).</summary>
    public double ReorderRate { get; init; }

    /// <summary>Extra delay of a reordered segment (ticks).</summary>
    public long ReorderDelay { get; init; } = TimeSpan.FromMilliseconds(3).Ticks;

    /// <summary>Segments held back by <see cref="ReorderRate"/>.</summary>
    public long SegmentsReordered { get; private set; }

    /// <summary>A test's rule: return true to drop a segment (direction, header, payload length).</summary>
    public Func<bool, TcpHeader, int, bool>? Drop { get; init; }

    /// <summary>When the server had read every byte of the client's stream (ticks), or null.</summary>
    public long? DataDeliveredAt { get; private set; }

    /// <summary>Bytes the server sends back (0 by default: a one-way transfer).</summary>
    public int ServerBytes
    {
        get => _serverData.Length;
        init
        {
            _serverData = new byte[value];
            _random.NextBytes(_serverData);
        }
    }

    public long ClientReceivedBytes { get; private set; }

    /// <summary>The server application reads nothing before this time (ticks): its window closes.</summary>
    public long ServerReadsFrom { get; init; }

    public TcpConnection Client { get; }

    public TcpConnection? Server { get; private set; }

    public long Now { get; private set; }

    public long ReceivedBytes { get; private set; }

    public long SegmentsOnLink { get; private set; }

    public long SegmentsLost { get; private set; }

    /// <summary>Called before each step with the current time; lets a test inject extra segments.</summary>
    public Action<TcpLinkSimulator>? BeforeStep { get; init; }

    /// <summary>True when every byte arrived intact and both sides closed.</summary>
    public bool Completed =>
        Server is not null && ReceivedBytes == _data.Length && ClientReceivedBytes == _serverData.Length
        && Server.State is TcpState.Closed or TcpState.TimeWait
        && Client.State is TcpState.TimeWait or TcpState.Closed;

    public bool HashMatches =>
        _received.GetCurrentHash().AsSpan().SequenceEqual(SHA256.HashData(_data))
        && _clientReceived.GetCurrentHash().AsSpan().SequenceEqual(SHA256.HashData(_serverData));

    /// <summary>Runs until completion, a dead end (nothing scheduled), or <paramref name="limit"/> of virtual time.</summary>
    public void Run(long limit)
    {
        while (Now < limit && !Completed)
        {
            BeforeStep?.Invoke(this);
            Step();
            long next = NextEvent();
            if (next == long.MaxValue)
            {
                return;
            }

            Now = Math.Max(Now, next);
            while (_link.TryPeek(out _, out var due) && due.Item1 <= Now)
            {
                var (toServer, segment) = _link.Dequeue();
                Deliver(toServer, segment);
            }

            Client.Poll(Now);
            Server?.Poll(Now);
        }
    }

    /// <summary>Puts raw bytes on the link as if the client (toServer) or the server sent them.</summary>
    public void Inject(bool toServer, byte[] segment, long delay = 0) => _link.Enqueue((toServer, segment), (Now + delay, _order++));

    public TcpEndpoints ServerEndpoints => new(ClientEndpoints.RemoteAddress, ClientEndpoints.RemotePort, ClientEndpoints.LocalAddress, ClientEndpoints.LocalPort);

    private long NextEvent()
    {
        long next = Math.Min(Client.NextDeadline, Server?.NextDeadline ?? long.MaxValue);
        if (Now < ServerReadsFrom)
        {
            next = Math.Min(next, ServerReadsFrom);
        }

        if (_link.TryPeek(out _, out var due))
        {
            next = Math.Min(next, due.Item1);
        }

        return next;
    }

    private void Step()
    {
        // Application: the client writes what fits and half-closes at the end; the server reads everything.
        if (_written < _data.Length && Client.State is TcpState.Established or TcpState.SynSent)
        {
            _written += Client.Write(_data.AsSpan(_written));
            if (_written == _data.Length)
            {
                Client.Shutdown();
            }
        }

        int got;
        while ((got = Client.Read(_readBuffer)) > 0)
        {
            _clientReceived.AppendData(_readBuffer, 0, got);
            ClientReceivedBytes += got;
        }

        if (Server is not null && Now >= ServerReadsFrom)
        {
            int read;
            while ((read = Server.Read(_readBuffer)) > 0)
            {
                _received.AppendData(_readBuffer, 0, read);
                ReceivedBytes += read;
                if (ReceivedBytes == _data.Length)
                {
                    DataDeliveredAt ??= Now;
                }
            }
        }

        if (Server is not null && Server.State is TcpState.Established or TcpState.CloseWait)
        {
            _serverWritten += Server.Write(_serverData.AsSpan(_serverWritten));
            if (_serverWritten == _serverData.Length && Server.IsReadClosed)
            {
                Server.Shutdown();
            }
        }

        Drain(Client, ClientEndpoints, toServer: true);
        if (Server is not null)
        {
            Drain(Server, ServerEndpoints, toServer: false);
        }
    }

    private void Drain(TcpConnection connection, TcpEndpoints endpoints, bool toServer)
    {
        while (connection.TryGetSegment(_segment, out int length, Now))
        {
            endpoints.FillChecksum(_segment.AsSpan(0, length));
            SegmentsOnLink++;
            if (_random.NextDouble() < LossRate)
            {
                SegmentsLost++;
                continue;
            }

            if (Drop is not null && TcpHeader.TryParse(_segment.AsSpan(0, length), out var header, out var payload)
                && Drop(toServer, header, payload.Length))
            {
                SegmentsLost++;
                continue;
            }

            int copies = _random.NextDouble() < DuplicateRate ? 2 : 1;
            for (int i = 0; i < copies; i++)
            {
                long delay = BaseDelay + (long)(_random.NextDouble() * Jitter);
                if (ReorderRate > 0 && _random.NextDouble() < ReorderRate)
                {
                    delay += ReorderDelay;
                    SegmentsReordered++;
                }

                _link.Enqueue((toServer, _segment.AsSpan(0, length).ToArray()), (Now + delay, _order++));
            }
        }
    }

    private void Deliver(bool toServer, byte[] segment)
    {
        var endpoints = toServer ? ServerEndpoints : ClientEndpoints;
        if (!endpoints.IsInboundChecksumValid(segment) || !TcpHeader.TryParse(segment, out var header, out var payload))
        {
            return;
        }

        if (!toServer)
        {
            Client.OnSegment(header, payload, Now);
            return;
        }

        if (Server is null)
        {
            if (header.Flags != TcpFlags.Syn)
            {
                return;
            }

            Server = TcpConnection.Accept(endpoints, _config, _isn.Generate(endpoints, Now), header, Now, _isn.TimestampOffset(endpoints));
            return;
        }

        Server.OnSegment(header, payload, Now);
    }
}
