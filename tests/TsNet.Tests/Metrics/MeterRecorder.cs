using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace TsNet.Tests.Metrics;

/// <summary>
/// Listens to one node's <c>TsNet</c> meter and, on <see cref="Collect"/>, reads every observable instrument once:
/// the last value per instrument and tag set, as <c>dotnet-counters</c> or an OpenTelemetry exporter would.
/// </summary>
internal sealed class MeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, Instrument> _instruments = new();
    private readonly ConcurrentDictionary<(string Name, string Tags), long> _values = new();

    public MeterRecorder(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                _instruments[instrument.Name] = instrument;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            _values[(instrument.Name, string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}")))] = value);
        _listener.MeasurementsCompleted = (instrument, _) => Completed.Add(instrument.Name);
        _listener.Start();
    }

    /// <summary>The node's instruments by name.</summary>
    public IReadOnlyDictionary<string, Instrument> Instruments => _instruments;

    /// <summary>Instruments whose measurements ended (their meter was disposed).</summary>
    public ConcurrentBag<string> Completed { get; } = [];

    /// <summary>Reads every instrument now.</summary>
    public void Collect() => _listener.RecordObservableInstruments();

    /// <summary>The last value read for <paramref name="name"/> with exactly <paramref name="tags"/> (<c>key=value</c>, comma-separated), or null.</summary>
    public long? Value(string name, string tags = "") => _values.TryGetValue((name, tags), out var value) ? value : null;

    /// <summary>Every tag set read for <paramref name="name"/> with its value.</summary>
    public IReadOnlyDictionary<string, long> Series(string name) =>
        _values.Where(entry => entry.Key.Name == name).ToDictionary(entry => entry.Key.Tags, entry => entry.Value);

    public void Dispose() => _listener.Dispose();
}
