using System.Net.Sockets;
using System.Text;

namespace TsNet.Tool.LocalApi;

/// <summary>Reads newline-terminated UTF-8 lines from a stream socket, each at most a fixed number of bytes.</summary>
internal sealed class SocketLineReader
{
    private readonly Socket _socket;
    private readonly int _maxLineBytes;
    private byte[] _buffer;
    private int _start;
    private int _end;

    /// <summary>A reader of lines of at most <paramref name="maxLineBytes"/> bytes (newline included) from <paramref name="socket"/>.</summary>
    public SocketLineReader(Socket socket, int maxLineBytes)
    {
        _socket = socket;
        _maxLineBytes = maxLineBytes;
        _buffer = new byte[Math.Min(maxLineBytes, 4096)];
    }

    /// <summary>The next line without its newline; null at the end of the stream (a last line without newline is dropped).</summary>
    /// <exception cref="InvalidDataException">The line is longer than the limit.</exception>
    public async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var scanned = 0; // bytes after _start known to hold no newline
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start + scanned, _end - _start - scanned);
            if (newline >= 0)
            {
                var line = Encoding.UTF8.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                _start = newline + 1;
                return line;
            }

            scanned = _end - _start;
            if (_end - _start >= _maxLineBytes)
            {
                throw new InvalidDataException($"a line is longer than {_maxLineBytes} bytes");
            }

            MakeRoom();
            var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end, _buffer.Length - _end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            _end += read;
        }
    }

    private void MakeRoom()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, _maxLineBytes));
        }
    }
}
