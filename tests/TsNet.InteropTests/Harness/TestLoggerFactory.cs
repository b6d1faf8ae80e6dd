using Microsoft.Extensions.Logging;

namespace TsNet.InteropTests.Harness;

/// <summary>An <see cref="ILoggerFactory"/> that writes a TsNet node's log into the test output, next to the commands.</summary>
public sealed class TestLoggerFactory : ILoggerFactory
{
    private readonly TestLog _log;
    private readonly LogLevel _minimum;

    /// <summary>Logs at <paramref name="minimum"/> and above to <paramref name="log"/>.</summary>
    public TestLoggerFactory(TestLog log, LogLevel minimum = LogLevel.Debug)
    {
        _log = log;
        _minimum = minimum;
    }

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    /// <inheritdoc/>
    public void AddProvider(ILoggerProvider provider)
    {
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private sealed class Logger(TestLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= factory._minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var text = formatter(state, exception);
            factory._log.Write($"[tsnet {logLevel} {category}] {text}{(exception is null ? string.Empty : "\n" + exception)}");
        }
    }
}
