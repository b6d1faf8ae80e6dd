namespace TsNet;

/// <summary>
/// <see cref="TailnetServer.PublishAsync"/> could not set up one of its mappings (a host port in use, an overlay port
/// already taken, a target that does not resolve). The mappings bound before it were closed again; the inner
/// exception says why this one failed.
/// </summary>
public sealed class PortPublishingException : IOException
{
    /// <summary>Creates the exception for <paramref name="mapping"/>.</summary>
    public PortPublishingException(PortMapping mapping, Exception innerException)
        : base($"Could not publish {mapping}: {innerException?.Message}", innerException)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        Mapping = mapping;
    }

    /// <summary>The mapping that failed.</summary>
    public PortMapping Mapping { get; }
}
