using System.Text;

namespace TsNet.Control.Transport;

/// <summary>
/// Reads the unencrypted start of a control connection (HTTP/1.1 headers, then the Noise handshake answer)
/// from a stream, keeping what arrived past it (<see cref="Remaining"/>) for the record reader: the server sends
/// the 101, the handshake response and HTTP/2 bytes without waiting (doc §5.7).
/// </summary>
internal sealed class PrefixReader
{
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();

    private readonly Stream _stream;
    private byte[] _buffer = new byte[1024];
    private int _start;
    private int _end;

    public PrefixReader(Stream stream) => _stream = stream;

    /// <summary>Bytes read from the stream but not consumed.</summary>
    public ReadOnlySpan<byte> Remaining => _buffer.AsSpan(_start, _end - _start);

    /// <summary>Reads up to and including the blank line; returns the header text without it.</summary>
    public async ValueTask<string> ReadHeadersAsync(int maxBytes, CancellationToken cancellationToken)
    {
        int scanned = 0;
        while (true)
        {
            int end = Remaining[Math.Max(0, scanned - 3)..].IndexOf(HeaderEnd);
            if (end >= 0)
            {
                end += Math.Max(0, scanned - 3);
                string text = Encoding.ASCII.GetString(_buffer, _start, end);
                _start += end + HeaderEnd.Length;
                return text;
            }

            scanned = _end - _start;
            if (scanned >= maxBytes)
            {
                throw new ControlTransportException($"control server's upgrade response headers exceed {maxBytes} bytes");
            }

            if (!await FillAsync(scanned + 1, maxBytes, cancellationToken).ConfigureAwait(false))
            {
                throw new ControlTransportException(scanned == 0
                    ? "control server closed the connection without answering the upgrade"
                    : "control server closed the connection in the middle of the upgrade response");
            }
        }
    }

    /// <summary>Exactly <paramref name="count"/> bytes, or null when the stream ends first.</summary>
    public async ValueTask<byte[]?> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        if (!await FillAsync(count, Math.Max(count, _buffer.Length), cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        byte[] result = _buffer.AsSpan(_start, count).ToArray();
        _start += count;
        return result;
    }

    /// <summary>Up to <paramref name="count"/> bytes as text (fewer when the stream ends), for error messages.</summary>
    public async ValueTask<string> ReadTextAsync(int count, CancellationToken cancellationToken)
    {
        try
        {
            await FillAsync(count, count, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The text is only a hint for the error message.
        }

        return Encoding.UTF8.GetString(_buffer, _start, Math.Min(count, _end - _start));
    }

    private async ValueTask<bool> FillAsync(int needed, int maxBytes, CancellationToken cancellationToken)
    {
        while (_end - _start < needed)
        {
            if (_buffer.Length - _start < needed)
            {
                byte[] grown = _buffer.Length >= needed ? _buffer : new byte[Math.Min(Math.Max(needed, _buffer.Length * 2), Math.Max(needed, maxBytes))];
                Buffer.BlockCopy(_buffer, _start, grown, 0, _end - _start);
                _end -= _start;
                _start = 0;
                _buffer = grown;
            }

            int read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return false;
            }

            _end += read;
        }

        return true;
    }
}
