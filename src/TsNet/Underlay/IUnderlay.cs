using TsNet.Dataplane;
using TsNet.WireGuard.Protocol;

namespace TsNet.Underlay;

/// <summary>
/// What the dataplane sends WireGuard datagrams through and receives them from: UDP sockets, a relay framing layer
/// over another underlay, or an in-process hub in tests (a DERP transport later). Received datagrams go to the
/// dataplane's bounded inbound channel given when the underlay was made (a full channel drops and counts); sending,
/// <see cref="Flush"/>, <see cref="Receive"/> and <see cref="Poll"/> run on the dataplane loop only, so an
/// implementation keeps its per-path state without locks. Nothing here allocates per datagram.
/// </summary>
/// <remarks>
/// Destinations are <see cref="UnderlayAddress"/>es; a transport that reaches peers by key and region rather than
/// IP:port (DERP) will name them with an address form of its own and claim them in <c>Send</c>.
/// </remarks>
internal interface IUnderlay : IAsyncDisposable
{
    /// <summary>The local port peers reach this node on (the bound UDP port; the hub port in memory).</summary>
    int Port { get; }

    /// <summary>Datagrams dropped because the dataplane's inbound queue was full.</summary>
    long InboundDrops { get; }

    /// <summary>Datagrams dropped on sending (buffer full, unreachable, unknown destination).</summary>
    long SendDrops { get; }

    /// <summary>The tasks the underlay runs (receive loops); all complete after dispose.</summary>
    IEnumerable<Task> Tasks { get; }

    /// <summary>
    /// Core time (100 ns ticks, the dataplane's clock) at which <see cref="Poll"/> has work, or
    /// <see cref="Timestamps.NotArmed"/>.
    /// </summary>
    long NextDeadline { get; }

    /// <summary>Starts delivering received datagrams (the resources were acquired when the underlay was made).</summary>
    void Start();

    /// <summary>
    /// Sends (or stages for this loop turn) one datagram; the bytes are copied or sent before this returns, and a
    /// datagram that cannot go is dropped and counted. Dataplane loop only.
    /// </summary>
    void Send(in UnderlayAddress destination, ReadOnlySpan<byte> datagram);

    /// <summary>
    /// Sends the datagram in <paramref name="datagram"/>; like <see cref="Send(in UnderlayAddress, ReadOnlySpan{byte})"/>
    /// but a framing layer may write its header into the buffer's headroom instead of copying. The caller keeps the
    /// buffer.
    /// </summary>
    void Send(in UnderlayAddress destination, Packets.Buffers.PacketBuffer datagram) => Send(destination, datagram.Span);

    /// <summary>Sends whatever this loop turn staged (GSO runs). Called once per turn, after the last send.</summary>
    void Flush();

    /// <summary>
    /// Offers a received datagram to the underlay's own protocol before WireGuard sees it (loop task): a framing
    /// layer consumes its control traffic and unwraps its data here.
    /// </summary>
    UnderlayReceiveResult Receive(ref UnderlayDatagram datagram, long now);

    /// <summary>Runs the underlay's timers that are due at <paramref name="now"/> (loop task).</summary>
    void Poll(long now);
}
