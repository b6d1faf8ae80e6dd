namespace TsNet.Tool.Services;

/// <summary>The <c>--forward</c>/<c>--publish</c> mappings of <c>tsnet up</c>, published together.</summary>
internal sealed class PortPublicationService(PortPublication publication) : ITailnetService
{
    /// <inheritdoc/>
    public string Description => string.Join(", ", publication.Ports.Select(p => $"{p.Mapping} (bound {p.EndPoint})"));

    /// <inheritdoc/>
    public int Count => publication.Ports.Count;

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => publication.DisposeAsync();
}
