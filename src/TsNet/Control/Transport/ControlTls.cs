using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace TsNet.Control.Transport;

/// <summary>TLS settings for talking to a control server: normal certificate validation, optionally against a test root.</summary>
internal static class ControlTls
{
    public static SslClientAuthenticationOptions ClientOptions(string host, X509Certificate2? trustedRoot)
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = host,
            // The Noise upgrade is HTTP/1.1; never offer h2 here (HTTP/2 runs inside Noise).
            ApplicationProtocols = [SslApplicationProtocol.Http11],
        };
        if (trustedRoot is not null)
        {
            options.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
                CustomTrustStore = { trustedRoot },
            };
        }

        return options;
    }

    /// <summary>A handler for plain HTTP(S) requests to the server (<c>/key</c>) with the same TLS policy.</summary>
    public static SocketsHttpHandler KeyHandler(X509Certificate2? trustedRoot)
    {
        var handler = new SocketsHttpHandler();
        if (trustedRoot is not null)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    RevocationMode = X509RevocationMode.NoCheck,
                    CustomTrustStore = { trustedRoot },
                },
            };
        }

        return handler;
    }
}
