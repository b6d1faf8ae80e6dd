using Microsoft.Extensions.Logging;

namespace TsNet.Tool.Hosting;

/// <summary>Hands ASP.NET Core's loggers out of the tool's own logger factory (one sink: stderr).</summary>
internal sealed class ToolLoggerProvider : ILoggerProvider
{
    private readonly ILoggerFactory _factory;

    /// <summary>A provider creating loggers from <paramref name="factory"/>, which the caller keeps owning.</summary>
    public ToolLoggerProvider(ILoggerFactory factory)
    {
        _factory = factory;
    }

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName) => _factory.CreateLogger(categoryName);

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}
