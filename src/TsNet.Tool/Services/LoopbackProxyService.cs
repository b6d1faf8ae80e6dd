namespace TsNet.Tool.Services;

/// <summary>The node's loopback SOCKS5 proxy as a tool service (<c>--socks5</c>).</summary>
internal sealed class LoopbackProxyService(LoopbackProxy proxy) : ITailnetService
{
    public LoopbackProxy Proxy { get; } = proxy;

    /// <inheritdoc/>
    public string Description => $"socks5 on {Proxy.EndPoint}";

    /// <summary>The line <c>tsnet up</c> prints once the proxy listens (api.md).</summary>
    public string AnnouncementLine => $"socks5 {Proxy.EndPoint} username={Proxy.Username} password={Proxy.Password}";

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => Proxy.DisposeAsync();
}
