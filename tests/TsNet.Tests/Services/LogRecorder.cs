using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TsNet.Tests.Services;

/// <summary>A logger factory that records every entry at Debug and above (event id, level, message) for assertions.</summary>
internal sealed class LogRecorder : ILoggerFactory
{
    private readonly ConcurrentQueue<(int EventId, LogLevel Level, string Message)> _entries = new();

    /// <summary>The formatted messages logged with <paramref name="eventId"/>, in order.</summary>
    public IReadOnlyList<string> Messages(int eventId) =>
        _entries.Where(e => e.EventId == eventId).Select(e => e.Message).ToList();

    public ILogger CreateLogger(string categoryName) => new Recorder(_entries);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Recorder(ConcurrentQueue<(int EventId, LogLevel Level, string Message)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                entries.Enqueue((eventId.Id, logLevel, formatter(state, exception)));
            }
        }
    }
}
