using System.Security.Cryptography.X509Certificates;

namespace TsNet.Control.Transport;

/// <summary>How to reach one control server over ts2021.</summary>
internal sealed class ControlConnectionOptions
{
    /// <summary>The server URL (<c>http://</c> or <c>https://</c>, optional port).</summary>
    public required Uri ServerUrl { get; init; }

    /// <summary>This device's machine key.</summary>
    public required MachinePrivateKey MachineKey { get; init; }

    /// <summary>The server's Noise key (<c>publicKey</c> from <c>/key</c>).</summary>
    public required MachinePublicKey ControlKey { get; init; }

    /// <summary>Sent in the initiation header and prologue: the client's capability version.</summary>
    public required ushort ProtocolVersion { get; init; }

    /// <summary>Dial + upgrade + handshake (+ early payload probe) budget per connection. Go uses 10 s (doc §3).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// For tests only: a root certificate trusted for <c>https://</c> in addition to nothing else (normal chain
    /// and name validation, but against this root instead of the system store). Null = the system store.
    /// </summary>
    public X509Certificate2? TrustedRootForTests { get; init; }
}
