using TsNet.Packets.Buffers;
using TsNet.WireGuard.Crypto;
using TsNet.WireGuard.Protocol;

namespace TsNet.Benchmarks.Crypto;

/// <summary>
/// One responder serving many distinct initiators (each its own endpoint, so every handshake is a different peer
/// to the responder, as on a busy node), with each side's share timed on its own: the initiator's part (create
/// the initiation, later consume the response) and the responder's part (consume the initiation, create the
/// response). A node on one core runs one side of each handshake, so these are its per-side costs. Handshakes
/// run in batches, one per initiator: all initiations, then all responses, then all consumptions, each phase
/// timed as a whole in this thread's CPU time.
/// </summary>
internal sealed class HandshakeSides
{
    private readonly PacketBufferPool _pool = new();
    private readonly WireGuardEndpoint _responder;
    private readonly WireGuardEndpoint[] _initiators;
    private readonly WireGuardPeer[] _responderAtInitiator;
    private readonly UnderlayAddress[] _initiatorAddresses;
    private readonly LastDatagramOutput[] _initiatorOutputs;
    private readonly BatchCapture _responderOutput;
    private readonly UnderlayAddress _responderAddress = UnderlayAddress.FromIPv4([127, 0, 0, 1], 1);
    private long _now = TimeSpan.FromHours(1).Ticks;

    public HandshakeSides(int initiators)
    {
        var timers = WireGuardTimerSettings.Default with { HandshakeInitiationRate = TimeSpan.Zero };
        _responder = new WireGuardEndpoint(new WireGuardEndpointOptions { PrivateKey = NewKey(), Pool = _pool, Timers = timers });
        _initiators = new WireGuardEndpoint[initiators];
        _responderAtInitiator = new WireGuardPeer[initiators];
        _initiatorAddresses = new UnderlayAddress[initiators];
        _initiatorOutputs = new LastDatagramOutput[initiators];
        _responderOutput = new BatchCapture(initiators);
        for (int i = 0; i < initiators; i++)
        {
            _initiators[i] = new WireGuardEndpoint(new WireGuardEndpointOptions { PrivateKey = NewKey(), Pool = _pool, Timers = timers });
            _responderAtInitiator[i] = _initiators[i].AddPeer(_responder.PublicKey);
            _initiators[i].ConfigureEndpoint(_responderAtInitiator[i], _responderAddress);
            _responder.AddPeer(_initiators[i].PublicKey);
            _initiatorAddresses[i] = UnderlayAddress.FromIPv4([127, 0, 1, (byte)(i / 200)], (ushort)(1000 + i));
            _initiatorOutputs[i] = new LastDatagramOutput();
        }
    }

    public int Initiators => _initiators.Length;

    /// <summary>Runs <paramref name="batches"/> batches; returns the CPU seconds and bytes allocated of each side.</summary>
    public SideCosts Run(int batches, Func<double> threadCpuSeconds)
    {
        var costs = default(SideCosts);
        for (int b = 0; b < batches; b++)
        {
            // REKEY_TIMEOUT (5 s) throttles a peer's initiations: one batch per 6 s of core time.
            _now += TimeSpan.FromSeconds(6).Ticks;
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            double start = threadCpuSeconds();
            for (int i = 0; i < _initiators.Length; i++)
            {
                _initiators[i].InitiateHandshake(_responderAtInitiator[i], _now, _initiatorOutputs[i]);
            }

            double created = threadCpuSeconds();
            long allocatedCreate = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < _initiators.Length; i++)
            {
                _responder.ReceiveDatagram(_initiatorOutputs[i].Take(), _initiatorAddresses[i], _now, 0, _responderOutput);
            }

            double answered = threadCpuSeconds();
            long allocatedAnswer = GC.GetAllocatedBytesForCurrentThread();
            if (_responderOutput.Count != _initiators.Length)
            {
                throw new InvalidOperationException($"The responder answered {_responderOutput.Count} of {_initiators.Length} initiations.");
            }

            for (int i = 0; i < _initiators.Length; i++)
            {
                long completed = _responderAtInitiator[i].HandshakesCompleted;
                _initiators[i].ReceiveDatagram(_responderOutput.Take(i), _responderAddress, _now, 0, _initiatorOutputs[i]);
                _initiatorOutputs[i].Clear(); // the keepalive that confirms the session
                if (_responderAtInitiator[i].HandshakesCompleted != completed + 1)
                {
                    throw new InvalidOperationException("A handshake did not complete.");
                }
            }

            double consumed = threadCpuSeconds();
            long allocatedEnd = GC.GetAllocatedBytesForCurrentThread();
            _responderOutput.Reset();
            costs.InitiatorSeconds += (created - start) + (consumed - answered);
            costs.ResponderSeconds += answered - created;
            costs.InitiatorBytes += (allocatedCreate - allocated) + (allocatedEnd - allocatedAnswer);
            costs.ResponderBytes += allocatedAnswer - allocatedCreate;
        }

        return costs;
    }

    private static byte[] NewKey()
    {
        var key = new byte[32];
        X25519.GeneratePrivateKey(key);
        return key;
    }

    /// <summary>CPU time and managed allocation of each side over a run.</summary>
    internal struct SideCosts
    {
        public double InitiatorSeconds;
        public double ResponderSeconds;
        public long InitiatorBytes;
        public long ResponderBytes;
    }

    // The responder's answers in arrival order, which is initiator order (one initiation per initiator per batch).
    private sealed class BatchCapture(int capacity) : IWireGuardOutput
    {
        private readonly PacketBuffer?[] _sent = new PacketBuffer?[capacity];

        public int Count { get; private set; }

        public void SendDatagram(in UnderlayAddress destination, PacketBuffer datagram)
        {
            if (Count == _sent.Length)
            {
                datagram.Return();
                throw new InvalidOperationException("More answers than initiators.");
            }

            _sent[Count++] = datagram;
        }

        public void DeliverPacket(WireGuardPeer peer, PacketBuffer packet) => packet.Return();

        public PacketBuffer Take(int index)
        {
            var sent = _sent[index] ?? throw new InvalidOperationException("No answer at this position.");
            _sent[index] = null;
            return sent;
        }

        public void Reset()
        {
            for (int i = 0; i < Count; i++)
            {
                _sent[i]?.Return();
                _sent[i] = null;
            }

            Count = 0;
        }
    }
}
