using System.Text;

namespace TsNet.Tests.Tool;

/// <summary>
/// A connection for in-process server tests: reads return the scripted request bytes at most
/// <c>maxReadBytes</c> at a time, then end of stream (or, with <see cref="StallAtEnd"/>, a read that waits until
/// cancelled, like a client that went silent); writes are captured.
/// </summary>
internal sealed class ScriptedConnection : Stream
{
    private readonly byte[] _input;
    private readonly int _maxReadBytes;
    private readonly MemoryStream _output = new();
    private int _position;

    public ScriptedConnection(byte[] input, int maxReadBytes = int.MaxValue)
    {
        _input = input;
        _maxReadBytes = maxReadBytes;
    }

    public ScriptedConnection(string input, int maxReadBytes = int.MaxValue)
        : this(Encoding.Latin1.GetBytes(input), maxReadBytes)
    {
    }

    /// <summary>When set, a read after the script waits for cancellation instead of returning end of stream.</summary>
    public bool StallAtEnd { get; init; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Everything the server wrote, as Latin-1 text.</summary>
    public string Output => Encoding.Latin1.GetString(_output.ToArray());

    /// <summary>Everything the server wrote.</summary>
    public byte[] OutputBytes => _output.ToArray();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = Math.Min(Math.Min(count, _maxReadBytes), _input.Length - _position);
        Array.Copy(_input, _position, buffer, offset, n);
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (StallAtEnd && _position == _input.Length)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        var n = Math.Min(Math.Min(buffer.Length, _maxReadBytes), _input.Length - _position);
        _input.AsSpan(_position, n).CopyTo(buffer.Span);
        _position += n;
        return n;
    }

    public override void Write(byte[] buffer, int offset, int count) => _output.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _output.Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
