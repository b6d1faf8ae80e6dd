using Xunit.Abstractions;

namespace TsNet.InteropTests.Harness;

/// <summary>
/// Log lines stamped with the wall-clock time (comparable with wireguard-go's own log) for one test, written to xunit's <see cref="ITestOutputHelper"/> (shown with a failing
/// test) or to stderr when there is none. Writing after the test has finished is silently ignored.
/// </summary>
public sealed class TestLog
{
    private readonly ITestOutputHelper? _output;
    private readonly Action<string>? _writer;

    /// <summary>Creates a log writing to <paramref name="output"/> (null: stderr).</summary>
    public TestLog(ITestOutputHelper? output) => _output = output;

    /// <summary>Creates a log writing each line to <paramref name="writer"/>.</summary>
    public TestLog(Action<string> writer) => _writer = writer;

    /// <summary>A log that writes to stderr only.</summary>
    public static TestLog Console { get; } = new((ITestOutputHelper?)null);

    /// <summary>Writes one line (multi-line messages are kept together).</summary>
    public void Write(string message)
    {
        var line = $"{DateTime.Now:HH:mm:ss.fff} {message}";
        if (_writer is not null)
        {
            _writer(line);
            return;
        }

        if (_output is null)
        {
            System.Console.Error.WriteLine(line);
            return;
        }

        try
        {
            _output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test already finished (e.g. a background reader of a process that outlived it).
        }
    }
}
