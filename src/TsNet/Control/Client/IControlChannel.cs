using TsNet.Control.Protocol;
using TsNet.Control.Transport;

namespace TsNet.Control.Client;

/// <summary>
/// One connection to the control server as the session uses it: the server's Noise key (from <c>/key</c>), register,
/// map poll and lite update. <see cref="ControlChannel"/> is the real one (ts2021 via <see cref="ControlConnection"/>);
/// unit tests replay JSON through a fake. Requests may run concurrently (HTTP/2 multiplexes them).
/// </summary>
internal interface IControlChannel : IAsyncDisposable
{
    /// <summary>The server's Noise public key this channel was made with (a new one means a new server: register again).</summary>
    MachinePublicKey ServerKey { get; }

    /// <summary><c>POST /machine/register</c>.</summary>
    /// <exception cref="ControlHttpException">A status other than 200.</exception>
    /// <exception cref="ControlProtocolException">The answer is not a register response.</exception>
    Task<RegisterResponse> RegisterAsync(RegisterRequest request, CancellationToken cancellationToken);

    /// <summary><c>POST /machine/map</c> with <c>Stream:true</c>: the frames of the long poll.</summary>
    /// <exception cref="ControlHttpException">A status other than 200 (400/404: the server does not know the node).</exception>
    Task<IMapStream> OpenMapAsync(MapRequest request, CancellationToken cancellationToken);

    /// <summary><c>POST /machine/map</c> with <c>Stream:false, OmitPeers:true</c>; only the status matters.</summary>
    /// <exception cref="ControlHttpException">A status other than 200.</exception>
    Task SendLiteUpdateAsync(MapRequest request, CancellationToken cancellationToken);
}

/// <summary>An open map poll: its messages in order until the server ends it.</summary>
internal interface IMapStream : IAsyncDisposable
{
    /// <summary>The next message (keep-alives included), or null when the server ended the stream cleanly.</summary>
    /// <exception cref="ControlProtocolException">A bad or oversized frame.</exception>
    ValueTask<MapResponse?> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>Makes a new channel (fetching <c>/key</c> again: a restarted server has a new key).</summary>
internal delegate Task<IControlChannel> ControlChannelConnector(CancellationToken cancellationToken);
