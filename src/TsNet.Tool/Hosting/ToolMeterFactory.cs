using System.Diagnostics.Metrics;

namespace TsNet.Tool.Hosting;

/// <summary>
/// The meter factory Kestrel's metrics are created from in <see cref="ToolKestrel"/> (the host's <c>AddMetrics</c>
/// would bring its listener configuration): plain meters, disposed with the server.
/// </summary>
internal sealed class ToolMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    /// <inheritdoc/>
    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        lock (_meters)
        {
            _meters.Add(meter);
        }

        return meter;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_meters)
        {
            foreach (var meter in _meters)
            {
                meter.Dispose();
            }

            _meters.Clear();
        }
    }
}
