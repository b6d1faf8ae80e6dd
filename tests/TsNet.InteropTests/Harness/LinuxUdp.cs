using System.Globalization;
using System.Net;

namespace TsNet.InteropTests.Harness;

/// <summary>
/// A UDP echo server of the Linux kernel behind a <see cref="WireGuardGoPeer"/>: <c>socat UDPx-RECVFROM:PORT,fork PIPE</c>
/// in the peer's namespace. Each datagram is answered by a socat child with the same bytes, from the server's port to
/// the sender, one datagram per datagram (boundaries kept). Answers may overtake each other, so a client should wait
/// for each answer before sending the next. Dispose stops socat; never throws.
/// </summary>
public sealed class LinuxUdpEchoServer : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private LinuxUdpEchoServer(IPEndPoint endPoint, ChildProcess process)
    {
        EndPoint = endPoint;
        _process = process;
    }

    /// <summary>The overlay address and port it receives on.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>socat's output so far.</summary>
    public IReadOnlyList<string> LogLines => _process.Lines;

    /// <summary>Starts the echo server on <paramref name="address"/>:<paramref name="port"/> in the peer's namespace.</summary>
    public static async Task<LinuxUdpEchoServer> StartAsync(WireGuardGoPeer peer, IPAddress address, int port, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(address);
        var endPoint = new IPEndPoint(address, port);
        var receive = Socat.Kind("UDP", address, "-RECVFROM") + ":" + port.ToString(CultureInfo.InvariantCulture) + ",bind=" + Socat.Host(address) + ",fork";
        var process = await Socat.StartListenerAsync(peer, "socat-udp-echo " + Socat.HostPort(endPoint), new[] { receive, "PIPE" }, cancellationToken);
        return new LinuxUdpEchoServer(endPoint, process);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _process.DisposeAsync();
}

/// <summary>One-shot socat clients run inside a <see cref="WireGuardGoPeer"/>'s namespace (the Linux kernel originates the traffic).</summary>
public static class LinuxSocatClient
{
    /// <summary>
    /// UDP: sends <paramref name="inputPath"/> to <paramref name="remote"/> as datagrams of <paramref name="datagramSize"/>
    /// bytes (the last one shorter), writes every datagram that comes back to <paramref name="outputPath"/>, and quits
    /// <paramref name="linger"/> after the last one was sent. Run as <c>socat -b SIZE -t LINGER OPEN:in!!CREATE:out UDPx:host:port</c>.
    /// </summary>
    public static Task<CommandResult> UdpExchangeAsync(
        WireGuardGoPeer peer,
        IPEndPoint remote,
        string inputPath,
        string outputPath,
        int datagramSize,
        TimeSpan linger,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        var args = new[]
        {
            "-b", datagramSize.ToString(CultureInfo.InvariantCulture),
            "-t", linger.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture),
            "OPEN:" + Socat.FilePath(inputPath) + ",rdonly!!CREATE:" + Socat.FilePath(outputPath),
            Socat.Kind("UDP", remote.Address) + ":" + Socat.HostPort(remote),
        };
        return Socat.RunAsync(peer, args, linger + TimeSpan.FromSeconds(10), cancellationToken);
    }

    /// <summary>TCP: connects to <paramref name="remote"/>, sends <paramref name="inputPath"/>, then FIN (<c>socat -u OPEN:file TCPx:host:port</c>).</summary>
    public static Task<CommandResult> TcpSendFileAsync(WireGuardGoPeer peer, IPEndPoint remote, string inputPath, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        var args = new[] { "-u", "OPEN:" + Socat.FilePath(inputPath) + ",rdonly", Socat.Kind("TCP", remote.Address) + ":" + Socat.HostPort(remote) };
        return Socat.RunAsync(peer, args, timeout, cancellationToken);
    }

    /// <summary>TCP: connects to <paramref name="remote"/> and writes what arrives until the server's FIN to <paramref name="outputPath"/>.</summary>
    public static Task<CommandResult> TcpReceiveFileAsync(WireGuardGoPeer peer, IPEndPoint remote, string outputPath, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        var args = new[] { "-u", Socat.Kind("TCP", remote.Address) + ":" + Socat.HostPort(remote), "CREATE:" + Socat.FilePath(outputPath) };
        return Socat.RunAsync(peer, args, timeout, cancellationToken);
    }
}
