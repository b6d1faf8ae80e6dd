using System.Runtime.CompilerServices;
using TsNet.Dataplane;
using TsNet.WireGuard.Protocol;

namespace TsNet.Derp;

/// <summary>The reader loop: frames from the server → inbound queue, events, pongs.</summary>
internal sealed partial class DerpConnection
{
    /// <summary>Control frames (ServerInfo, PeerGone, Ping, Health, …) up to this size are read; bigger ones are skipped.</summary>
    private const int ControlScratchSize = 4096;

    /// <summary>
    /// Runs the reader and writer until either ends (server closed, error, Restarting, <paramref name="cancellationToken"/>),
    /// then stops the other and reports why.
    /// </summary>
    public async Task<DerpConnectionEnd> RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = ReadLoopAsync(stop.Token);
        var writer = WriteLoopAsync(stop.Token);
        var first = await Task.WhenAny(reader, writer).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        _owner.WakeWriter();

        // A read or write pending on the socket only ends when the socket closes.
        Abort();
        DerpConnectionEnd end;
        try
        {
            // Only the loop that ended first says why: the other one then fails only because it was stopped.
            if (first == reader)
            {
                end = await reader.ConfigureAwait(false);
            }
            else
            {
                await writer.ConfigureAwait(false);
                end = new DerpConnectionEnd("the writer stopped", null);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            end = new DerpConnectionEnd(DerpRegionClient.Describe(e), null);
        }

        try
        {
            await Task.WhenAll(reader, writer).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Already reported (the first failure); the other loop only failed because the socket closed.
        }

        return end;
    }

    private async Task<DerpConnectionEnd> ReadLoopAsync(CancellationToken cancellationToken)
    {
        var scratch = new byte[ControlScratchSize];
        var peerKey = new byte[DerpProtocol.KeySize];
        var pingData = new byte[DerpProtocol.PingDataSize];
        while (true)
        {
            var header = await _reader.ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
            _owner.NoteFrameRead();
            if (header.Type == DerpFrameType.RecvPacket)
            {
                await ReceivePacketAsync(header.Length, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (header.Length > ControlScratchSize || !IsControlFrameWeRead(header.Type))
            {
                await _reader.SkipAsync(header.Length, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var payload = scratch.AsMemory(0, (int)header.Length);
            await _reader.ReadPayloadAsync(payload, cancellationToken).ConfigureAwait(false);
            switch (header.Type)
            {
                case DerpFrameType.Ping:
                    if (DerpFrameParser.TryParsePingData(payload.Span, pingData))
                    {
                        await WriteControlAsync(DerpFrameType.Pong, pingData, cancellationToken).ConfigureAwait(false);
                    }

                    break;
                case DerpFrameType.Pong:
                    if (DerpFrameParser.TryParsePingData(payload.Span, pingData))
                    {
                        CompletePing(pingData);
                    }

                    break;
                case DerpFrameType.PeerGone:
                    if (DerpFrameParser.TryParsePeerGone(payload.Span, peerKey, out var reason))
                    {
                        _owner.OnPeerGone(peerKey, reason);
                    }

                    break;
                case DerpFrameType.ServerInfo:
                    OnServerInfo(payload.Span);
                    break;
                case DerpFrameType.Health:
                    _owner.OnHealth(payload.Span);
                    break;
                case DerpFrameType.Restarting:
                    if (DerpFrameParser.TryParseRestarting(payload.Span, out var reconnectIn, out var tryFor))
                    {
                        _owner.OnRestarting(reconnectIn, tryFor);
                        return new DerpConnectionEnd("the server is restarting", reconnectIn);
                    }

                    break;
            }
        }
    }

    private static bool IsControlFrameWeRead(DerpFrameType type) => type is DerpFrameType.Ping or DerpFrameType.Pong
        or DerpFrameType.PeerGone or DerpFrameType.ServerInfo or DerpFrameType.Health or DerpFrameType.Restarting;

    private void OnServerInfo(ReadOnlySpan<byte> payload)
    {
        // Once per connection: a fresh buffer for the opened JSON is fine.
        if (DerpFrameParser.TryParseServerInfo(payload, _sharedKey, new byte[payload.Length], out var info))
        {
            _owner.OnServerInfo(info);
        }
        else
        {
            _owner.OnBadServerInfo();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReceivePacketAsync(uint length, CancellationToken cancellationToken)
    {
        if (!DerpFrameParser.IsValidRecvPacketLength(length))
        {
            throw new DerpProtocolException($"A RecvPacket frame of {length} bytes (a source key and at most 64 KiB expected).");
        }

        var pool = _owner.Pool;
        if (length > pool.BufferSize - InboundHeadroom)
        {
            // Does not fit a pool buffer: drop it (counted) and keep the stream in step.
            await _reader.SkipAsync(length, cancellationToken).ConfigureAwait(false);
            _owner.CountInboundDrop();
            return;
        }

        var buffer = pool.Rent(InboundHeadroom);
        try
        {
            await _reader.ReadPayloadAsync(buffer.Array.AsMemory(InboundHeadroom, (int)length), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            buffer.Return();
            throw;
        }

        buffer.SetLength((int)length);
        if (!_owner.Inbound.TryWrite(new UnderlayDatagram(buffer, _owner.Address)))
        {
            buffer.Return();
            _owner.CountInboundDrop();
            return;
        }

        _owner.CountReceived();
    }

    /// <summary>
    /// Headroom of received packets, as the UDP underlay rents: the WireGuard transport header size. (Once the
    /// consumer strips the 32-byte source key, that becomes headroom too.)
    /// </summary>
    private const int InboundHeadroom = MessageLayout.TransportHeaderSize;
}
