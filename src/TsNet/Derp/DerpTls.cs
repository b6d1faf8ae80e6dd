using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TsNet.Control.Protocol;

namespace TsNet.Derp;

/// <summary>
/// TLS settings for a DERP node (derp.md §1): SNI = <c>HostName</c>; verified against <c>HostName</c>, or against
/// <c>CertName</c> when set, or pinned by <c>CertName = "sha256-raw:&lt;hex&gt;"</c>; <c>InsecureForTests</c> skips
/// verification. ALPN offers only http/1.1: derper picks h2 when offered and the DERP upgrade then fails.
/// </summary>
internal static class DerpTls
{
    private const string RawPinPrefix = "sha256-raw:";

    private static readonly List<SslApplicationProtocol> Http11Only = [SslApplicationProtocol.Http11];

    /// <summary>The client options for <paramref name="node"/>.</summary>
    public static SslClientAuthenticationOptions OptionsFor(DERPNode node)
    {
        var hostName = node.HostName ?? string.Empty;
        return new SslClientAuthenticationOptions
        {
            TargetHost = hostName,
            ApplicationProtocols = Http11Only,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Accepts(node, certificate, chain, errors),
        };
    }

    /// <summary>Whether the presented certificate is acceptable for the node.</summary>
    public static bool Accepts(DERPNode node, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (node.InsecureForTests)
        {
            return true;
        }

        if (certificate is null)
        {
            return false;
        }

        var certName = node.CertName;
        if (string.IsNullOrEmpty(certName))
        {
            return errors == SslPolicyErrors.None;
        }

        if (certName.StartsWith(RawPinPrefix, StringComparison.Ordinal))
        {
            var expected = certName.AsSpan(RawPinPrefix.Length);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(certificate.GetRawCertData(), hash);
            return expected.Equals(Convert.ToHexString(hash), StringComparison.OrdinalIgnoreCase);
        }

        // Verified against CertName instead of the SNI name: only a name mismatch may remain, and CertName must match.
        if ((errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) != SslPolicyErrors.None)
        {
            return false;
        }

        using var certificate2 = new X509Certificate2(certificate);
        return certificate2.MatchesHostname(certName);
    }
}
