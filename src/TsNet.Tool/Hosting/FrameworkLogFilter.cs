using Microsoft.Extensions.Logging;

namespace TsNet.Tool.Hosting;

/// <summary>
/// The logger factory Kestrel gets in <see cref="ToolKestrel"/>: the tool's own (one sink, stderr), with ASP.NET
/// Core's categories (<c>Microsoft.*</c>) only from Warning up unless <c>--verbose</c>, so a request never costs a log
/// line by default.
/// </summary>
internal sealed class FrameworkLogFilter(ILoggerFactory inner, bool verbose) : ILoggerFactory
{
    /// <summary>The level ASP.NET Core's categories log from without <c>--verbose</c>.</summary>
    public const LogLevel QuietLevel = LogLevel.Warning;

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return verbose || !categoryName.StartsWith("Microsoft", StringComparison.Ordinal) ? logger : new MinimumLevelLogger(logger);
    }

    /// <summary>Not supported: the tool's logging has one sink.</summary>
    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("the tool's logger factory writes to one text writer only");

    /// <summary>Nothing to release: the caller owns the inner factory.</summary>
    public void Dispose()
    {
    }

    private sealed class MinimumLevelLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= QuietLevel && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
