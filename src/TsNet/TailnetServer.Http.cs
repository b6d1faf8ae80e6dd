namespace TsNet;

// HttpClient integration: every connection the handler opens is a TCP connection over the tailnet.
public sealed partial class TailnetServer
{
    /// <summary>
    /// An <see cref="HttpClient"/> whose connections go over the tailnet (see <see cref="CreateHttpMessageHandler"/>).
    /// The client owns its handler; dispose it when done. It stops working when the node is disposed.
    /// </summary>
    public HttpClient CreateHttpClient() => new(CreateHttpMessageHandler(), disposeHandler: true);

    /// <summary>
    /// A <see cref="SocketsHttpHandler"/> whose <see cref="SocketsHttpHandler.ConnectCallback"/> dials into the tailnet:
    /// host names resolve against the configured peers' names (<c>http://db:8080/</c>, or <c>http://db.tailnet.example:8080/</c>
    /// with <see cref="TailnetServerOptions.DnsSuffix"/>) and IP literals, never the host's DNS; proxies are off. An
    /// unknown name fails the request with an <see cref="HttpRequestException"/> whose inner exception says so.
    /// </summary>
    public HttpMessageHandler CreateHttpMessageHandler() => new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var target = ResolveDialTarget(context.DnsEndPoint.Host, context.DnsEndPoint.Port);
            return await ConnectTcpAsync(target, cancellationToken).ConfigureAwait(false);
        },
    };
}
