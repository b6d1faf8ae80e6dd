using System.Net;
using Microsoft.Extensions.Logging;

namespace TsNet.Services.Socks5;

/// <summary>What every session of one proxy shares: the node, the credentials, the deadlines and the logger.</summary>
internal sealed record Socks5Context(
    ISocks5Overlay Overlay,
    Socks5Credentials Credentials,
    IPAddress ListenAddress,
    TimeSpan NegotiationTimeout,
    TimeSpan DialTimeout,
    TimeProvider TimeProvider,
    ILogger Logger);
