namespace TsNet.Control.Transport;

/// <summary>
/// The decrypted byte stream of an established ts2021 connection (protocol doc §6): writes are split into
/// records of ≤ 4077 plaintext bytes and sent at once (no buffering until Flush: the HTTP/2 client never
/// flushes, doc §7); reads decrypt one record at a time and skip empty records.
/// </summary>
/// <remarks>
/// One reader and any number of writers may run concurrently (writes are serialized). Memory is bounded: one
/// receive buffer, one record of plaintext, one write batch. Any protocol violation or bad tag fails the read
/// with <see cref="ControlTransportException"/>, and every later read fails too.
/// </remarks>
internal sealed class ControlNoiseStream : Stream
{
    // Enough for a full frame plus what the transport delivered past it; a read never needs more than one frame.
    private const int ReceiveBufferSize = 2 * ControlNoise.MaxFrameSize;

    // Records sealed into one write to the transport: big writes go out in few syscalls.
    private const int RecordsPerWrite = 8;

    private readonly Stream _transport;
    private readonly ControlRecordCipher _sender;
    private readonly ControlRecordCipher _receiver;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _writeBuffer = new byte[RecordsPerWrite * ControlNoise.MaxFrameSize];
    private readonly byte[] _receiveBuffer;
    private readonly byte[] _plaintext = new byte[ControlNoise.MaxPlaintextSize];
    private int _receiveStart;
    private int _receiveEnd;
    private int _plaintextStart;
    private int _plaintextEnd;
    private byte[] _pushedBack = [];
    private int _pushedBackStart;
    private Exception? _readFailure;
    private int _disposed;
    private bool _earlyPayloadPending;
    private readonly TaskCompletionSource<ControlEarlyPayload?> _earlyPayload = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="transport">The TCP or TLS stream after the handshake response.</param>
    /// <param name="keys">This side's transport keys.</param>
    /// <param name="alreadyReceived">Bytes the upgrade reader had buffered past the handshake response.</param>
    /// <param name="expectEarlyPayload">
    /// Client side: the first read probes for the server's early payload (doc §5.8) before returning HTTP/2
    /// bytes. The probe is lazy because an HTTP/2 server may wait for the client preface before it sends anything.
    /// </param>
    public ControlNoiseStream(Stream transport, ControlSessionKeys keys, ReadOnlySpan<byte> alreadyReceived = default, bool expectEarlyPayload = false)
    {
        _earlyPayloadPending = expectEarlyPayload;
        if (!expectEarlyPayload)
        {
            _earlyPayload.SetResult(null);
        }

        _transport = transport;
        Keys = keys;
        _sender = new ControlRecordCipher(keys.SendKey);
        _receiver = new ControlRecordCipher(keys.ReceiveKey);
        _receiveBuffer = new byte[Math.Max(ReceiveBufferSize, alreadyReceived.Length)];
        alreadyReceived.CopyTo(_receiveBuffer);
        _receiveEnd = alreadyReceived.Length;
    }

    /// <summary>The session: peer key, handshake hash, protocol version.</summary>
    public ControlSessionKeys Keys { get; }

    /// <summary>
    /// Completes with the server's early payload (or null when it sent none) once the first read has probed for it;
    /// fails when the probe failed.
    /// </summary>
    public Task<ControlEarlyPayload?> EarlyPayload => _earlyPayload.Task;

    /// <summary>Records sent so far (the send nonce).</summary>
    public ulong RecordsSent => _sender.Counter;

    /// <summary>Records received so far (the receive nonce).</summary>
    public ulong RecordsReceived => _receiver.Counter;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Puts plaintext back in front of the stream (the early-payload probe's 9 bytes of HTTP/2).</summary>
    internal void PushBack(ReadOnlySpan<byte> plaintext)
    {
        byte[] combined = new byte[plaintext.Length + _pushedBack.Length - _pushedBackStart];
        plaintext.CopyTo(combined);
        _pushedBack.AsSpan(_pushedBackStart).CopyTo(combined.AsSpan(plaintext.Length));
        _pushedBack = combined;
        _pushedBackStart = 0;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_earlyPayloadPending)
        {
            _earlyPayloadPending = false;
            try
            {
                _earlyPayload.SetResult(await ControlEarlyPayload.ReadAsync(this, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception exception)
            {
                _earlyPayload.TrySetException(exception);
                // Probed bytes may be consumed: the stream cannot go on, whatever interrupted the probe.
                _readFailure ??= exception as ControlTransportException ?? new ControlTransportException("the early-payload probe was interrupted", exception);
                throw;
            }
        }

        if (_pushedBackStart < _pushedBack.Length)
        {
            int count = Math.Min(buffer.Length, _pushedBack.Length - _pushedBackStart);
            _pushedBack.AsSpan(_pushedBackStart, count).CopyTo(buffer.Span);
            _pushedBackStart += count;
            return count;
        }

        while (_plaintextStart == _plaintextEnd)
        {
            if (_readFailure is not null)
            {
                throw new ControlTransportException("the control channel failed earlier", _readFailure);
            }

            try
            {
                if (!await ReadRecordAsync(cancellationToken).ConfigureAwait(false))
                {
                    return 0;
                }
            }
            catch (ControlTransportException exception)
            {
                _readFailure = exception;
                throw;
            }
        }

        int copied = Math.Min(buffer.Length, _plaintextEnd - _plaintextStart);
        _plaintext.AsSpan(_plaintextStart, copied).CopyTo(buffer.Span);
        _plaintextStart += copied;
        return copied;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // An empty write still sends nothing: empty records are legal but useless.
            while (!buffer.IsEmpty)
            {
                int filled = 0;
                while (!buffer.IsEmpty && filled + ControlNoise.MaxFrameSize <= _writeBuffer.Length)
                {
                    int chunk = Math.Min(buffer.Length, ControlNoise.MaxPlaintextSize);
                    filled += _sender.Seal(buffer.Span[..chunk], _writeBuffer.AsSpan(filled));
                    buffer = buffer[chunk..];
                }

                await _transport.WriteAsync(_writeBuffer.AsMemory(0, filled), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>Nothing is buffered on the write side; flushes the transport (e.g. TLS).</summary>
    public override Task FlushAsync(CancellationToken cancellationToken) => _transport.FlushAsync(cancellationToken);

    public override void Flush() => _transport.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _earlyPayload.TrySetCanceled();
        await _transport.DisposeAsync().ConfigureAwait(false);
        _sender.Dispose();
        _receiver.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _earlyPayload.TrySetCanceled();
            _transport.Dispose();
            _sender.Dispose();
            _receiver.Dispose();
        }

        base.Dispose(disposing);
    }

    // Reads and opens one record into the plaintext buffer; false on a clean end of stream between records.
    private async ValueTask<bool> ReadRecordAsync(CancellationToken cancellationToken)
    {
        if (!await FillAsync(ControlNoise.HeaderSize, cancellationToken).ConfigureAwait(false))
        {
            if (_receiveEnd == _receiveStart)
            {
                return false;
            }

            throw new ControlTransportException("control channel closed in the middle of a record header");
        }

        int ciphertextLength = ControlRecordCipher.ParseHeader(_receiveBuffer.AsSpan(_receiveStart, ControlNoise.HeaderSize));
        int frameLength = ControlNoise.HeaderSize + ciphertextLength;
        if (!await FillAsync(frameLength, cancellationToken).ConfigureAwait(false))
        {
            throw new ControlTransportException("control channel closed in the middle of a record");
        }

        int plaintextLength = _receiver.Open(_receiveBuffer.AsSpan(_receiveStart + ControlNoise.HeaderSize, ciphertextLength), _plaintext);
        _receiveStart += frameLength;
        _plaintextStart = 0;
        _plaintextEnd = plaintextLength;
        return true;
    }

    // Ensures `needed` contiguous bytes at _receiveStart; false when the transport ends first.
    private async ValueTask<bool> FillAsync(int needed, CancellationToken cancellationToken)
    {
        while (_receiveEnd - _receiveStart < needed)
        {
            if (_receiveBuffer.Length - _receiveStart < needed)
            {
                int pending = _receiveEnd - _receiveStart;
                Buffer.BlockCopy(_receiveBuffer, _receiveStart, _receiveBuffer, 0, pending);
                _receiveStart = 0;
                _receiveEnd = pending;
            }

            int read = await _transport.ReadAsync(_receiveBuffer.AsMemory(_receiveEnd), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return false;
            }

            _receiveEnd += read;
        }

        return true;
    }
}
