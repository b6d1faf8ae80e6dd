using Microsoft.Extensions.Logging;

namespace TsNet.Tool.Logging;

/// <summary>
/// The tool's logging: one line per message on a text writer (stderr), so stdout carries only results such as the
/// <c>ready</c> line. <c>2026-01-02T03:04:05.678Z info TsNet.TailnetServer[12]: message</c>.
/// </summary>
internal sealed class TextWriterLoggerFactory : ILoggerFactory
{
    private readonly TextWriter _writer;
    private readonly LogLevel _minimumLevel;
    private readonly TimeProvider _time;
    private readonly object _gate = new();

    private readonly IReadOnlySet<(string Category, int EventId)> _reportedByCaller;

    /// <summary>
    /// Logs messages at <paramref name="minimumLevel"/> and above to <paramref name="writer"/>. Exceptions are logged
    /// with their stack trace only at <see cref="LogLevel.Debug"/> and below (<c>--verbose</c>); otherwise as their
    /// message on the same line. Events in <paramref name="reportedByCaller"/> (the tool prints their cause itself, as
    /// one line) are logged only at <see cref="LogLevel.Debug"/> and below.
    /// </summary>
    public TextWriterLoggerFactory(TextWriter writer, LogLevel minimumLevel, TimeProvider? time = null, IReadOnlySet<(string Category, int EventId)>? reportedByCaller = null)
    {
        _writer = writer;
        _minimumLevel = minimumLevel;
        _time = time ?? TimeProvider.System;
        _reportedByCaller = reportedByCaller ?? new HashSet<(string, int)>();
    }

    private bool Verbose => _minimumLevel <= LogLevel.Debug;

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName) => new TextWriterLogger(this, categoryName);

    /// <summary>Not supported: this factory has exactly one sink.</summary>
    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("the tool's logger factory writes to one text writer only");

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };

    private void Write(LogLevel level, string category, EventId eventId, string message, Exception? exception)
    {
        var line = $"{_time.GetUtcNow():yyyy-MM-ddTHH:mm:ss.fffZ} {LevelName(level)} {category}[{eventId.Id}]: {message}";
        if (exception is not null)
        {
            // Stack traces are for --verbose; otherwise the cause on the same line is what a user can act on.
            line += Verbose ? Environment.NewLine + exception : ": " + exception.Message;
        }

        // One writer for all threads: whole lines, never interleaved.
        lock (_gate)
        {
            _writer.WriteLine(line);
            _writer.Flush();
        }
    }

    private sealed class TextWriterLogger(TextWriterLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= owner._minimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel) && (owner.Verbose || !owner._reportedByCaller.Contains((category, eventId.Id))))
            {
                owner.Write(logLevel, category, eventId, formatter(state, exception), exception);
            }
        }
    }
}
