namespace TsNet;

/// <summary>
/// <see cref="UdpRelayServer.AllocateEndpoint"/> was called while the server has no candidate address to offer
/// (tailscale's <c>ErrServerNotReady</c>); retry after <see cref="RetryAfter"/>.
/// </summary>
public sealed class UdpRelayServerNotReadyException : InvalidOperationException
{
    /// <summary>Creates the exception with tailscale's 3 s retry hint.</summary>
    public UdpRelayServerNotReadyException()
        : this(TimeSpan.FromSeconds(3))
    {
    }

    /// <summary>Creates the exception with a retry hint.</summary>
    public UdpRelayServerNotReadyException(TimeSpan retryAfter)
        : base($"The relay server has no candidate addresses yet; retry after {retryAfter.TotalSeconds:0} s.")
    {
        RetryAfter = retryAfter;
    }

    /// <summary>Creates the exception with a message (3 s retry hint).</summary>
    public UdpRelayServerNotReadyException(string message)
        : base(message)
    {
        RetryAfter = TimeSpan.FromSeconds(3);
    }

    /// <summary>Creates the exception with a message and inner exception (3 s retry hint).</summary>
    public UdpRelayServerNotReadyException(string message, Exception innerException)
        : base(message, innerException)
    {
        RetryAfter = TimeSpan.FromSeconds(3);
    }

    /// <summary>When to try again.</summary>
    public TimeSpan RetryAfter { get; }
}
