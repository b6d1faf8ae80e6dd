namespace TsNet.Services.Publishing;

/// <summary>
/// One published mapping: bound first (<see cref="BindAsync"/>, all mappings of a publication before any starts),
/// then started, then disposed (closes the listening socket and ends every session).
/// </summary>
internal abstract class PortRelay(PortMapping mapping, PublishingContext context) : IAsyncDisposable
{
    private PublishedPort? _port;

    public PortMapping Mapping { get; } = mapping;

    protected PublishingContext Context { get; } = context;

    /// <summary>Where it listens and its counters; set by <see cref="BindAsync"/>.</summary>
    public PublishedPort Port => _port ?? throw new InvalidOperationException("Not bound yet.");

    public static PortRelay Create(PortMapping mapping, PublishingContext context) => (mapping.Direction, mapping.Protocol) switch
    {
        (PortMappingDirection.HostToTailnet, PortProtocol.Tcp) => new HostToTailnetTcpRelay(mapping, context),
        (PortMappingDirection.TailnetToHost, PortProtocol.Tcp) => new TailnetToHostTcpRelay(mapping, context),
        _ => new UdpRelay(mapping, context),
    };

    /// <summary>Binds the listening socket; throws when it cannot (the caller closes the mappings bound before).</summary>
    public async ValueTask BindAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _port = new PublishedPort(Mapping, await BindCoreAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Starts accepting or receiving; the loops are tracked by <see cref="PublishingContext.Tasks"/>.</summary>
    public abstract void Start();

    public abstract ValueTask DisposeAsync();

    protected abstract ValueTask<System.Net.IPEndPoint> BindCoreAsync(CancellationToken cancellationToken);
}
