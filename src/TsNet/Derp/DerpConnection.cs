using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using TsNet.Control.Protocol;
using TsNet.WireGuard.Crypto;

namespace TsNet.Derp;

/// <summary>
/// One established DERP connection (TLS, upgraded, handshake done) of a <see cref="DerpRegionClient"/>: a reader
/// loop (frames → inbound queue / events) and a writer loop (the region's send queue → frames), run by
/// <see cref="RunAsync"/> until either ends.
/// </summary>
internal sealed partial class DerpConnection : IAsyncDisposable
{
    /// <summary>TCP connect bound per node (derp.md §1).</summary>
    public static readonly TimeSpan NodeDialTimeout = TimeSpan.FromSeconds(1.5);

    /// <summary>ServerKey payloads longer than this are refused (it is 40 bytes today; extra bytes are allowed).</summary>
    private const int MaxServerKeyLength = 4096;

    private readonly DerpRegionClient _owner;
    private readonly Socket _socket;
    private readonly SslStream _stream;
    private readonly DerpFrameReader _reader;
    private readonly byte[] _sharedKey;
    private int _disposed;

    private DerpConnection(DerpRegionClient owner, DERPNode node, Socket socket, SslStream stream, DerpFrameReader reader, byte[] serverKey, byte[] sharedKey)
    {
        _owner = owner;
        Node = node;
        _socket = socket;
        _stream = stream;
        _reader = reader;
        ServerKey = new WireGuardKey(serverKey);
        _sharedKey = sharedKey;
    }

    /// <summary>The node this connection reached.</summary>
    public DERPNode Node { get; }

    /// <summary>The server's public key (from the ServerKey frame).</summary>
    public WireGuardKey ServerKey { get; }

    /// <summary>
    /// Tries the region's nodes in order (skipping STUN-only ones) and returns the first that completes TCP, TLS,
    /// the HTTP upgrade and the DERP handshake; throws the last failure. The caller bounds the whole connect.
    /// </summary>
    public static async Task<DerpConnection> ConnectAsync(DerpRegionClient owner, DERPRegion region, CancellationToken cancellationToken)
    {
        Exception? last = null;
        foreach (var node in region.Nodes ?? [])
        {
            if (node.STUNOnly)
            {
                continue;
            }

            try
            {
                return await ConnectNodeAsync(owner, node, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                last = e;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw last ?? new DerpProtocolException($"DERP region {region.RegionID} has no DERP node.");
    }

    private static async Task<DerpConnection> ConnectNodeAsync(DerpRegionClient owner, DERPNode node, CancellationToken cancellationToken)
    {
        Socket socket;
        using (var dialTimeout = new CancellationTokenSource(NodeDialTimeout, owner.TimeProvider))
        using (var dial = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, dialTimeout.Token))
        {
            try
            {
                socket = await DerpNodeDialer.ConnectAsync(node, dial.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (dialTimeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"DERP node {node.Name}: TCP connect timed out after {NodeDialTimeout.TotalSeconds} s.");
            }
        }

        var stream = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            await stream.AuthenticateAsClientAsync(DerpTls.OptionsFor(node), cancellationToken).ConfigureAwait(false);
            var reader = new DerpFrameReader(stream);
            await UpgradeAsync(stream, reader, node, cancellationToken).ConfigureAwait(false);
            var serverKey = await ReadServerKeyAsync(reader, cancellationToken).ConfigureAwait(false);
            var sharedKey = new byte[NaClBox.KeySize];
            if (!NaClBox.TryPrecompute(owner.NodePrivateKey, serverKey, sharedKey))
            {
                throw new DerpProtocolException("The DERP server key is a low-order point.");
            }

            var clientInfo = new byte[DerpFrameWriter.ClientInfoFrameSize];
            var nonce = new byte[DerpProtocol.NonceSize];
            RandomNumberGenerator.Fill(nonce);
            DerpFrameWriter.WriteClientInfo(clientInfo, owner.NodePublicKey, sharedKey, nonce);
            await stream.WriteAsync(clientInfo, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            return new DerpConnection(owner, node, socket, stream, reader, serverKey, sharedKey);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task UpgradeAsync(SslStream stream, DerpFrameReader reader, DERPNode node, CancellationToken cancellationToken)
    {
        var request = $"GET /derp HTTP/1.1\r\nHost: {node.HostName}\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        var head = await reader.ReadHttpHeadAsync(cancellationToken).ConfigureAwait(false);
        var statusLine = head.Split("\r\n", 2)[0];
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || parts[1] != "101")
        {
            throw new DerpProtocolException($"The DERP server answered the upgrade with \"{statusLine}\", not 101.");
        }
    }

    private static async Task<byte[]> ReadServerKeyAsync(DerpFrameReader reader, CancellationToken cancellationToken)
    {
        var header = await reader.ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
        if (header.Type != DerpFrameType.ServerKey || header.Length < DerpProtocol.ServerKeyMinLength || header.Length > MaxServerKeyLength)
        {
            throw new DerpProtocolException($"Expected a ServerKey frame, got type {(byte)header.Type} of {header.Length} bytes.");
        }

        var payload = new byte[header.Length];
        await reader.ReadPayloadAsync(payload, cancellationToken).ConfigureAwait(false);
        var serverKey = new byte[DerpProtocol.KeySize];
        if (!DerpFrameParser.TryParseServerKey(payload, serverKey))
        {
            throw new DerpProtocolException("The ServerKey frame lacks the DERP magic.");
        }

        return serverKey;
    }

    /// <summary>Closes the socket at once (dispose, or a dead connection found by the read watchdog); the loops then end.</summary>
    public void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed: nothing to abort.
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Abort();
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        _writeLock.Dispose();
        FailPendingPing();
    }
}
