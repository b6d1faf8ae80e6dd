namespace TsNet.Control.Protocol;

/// <summary>DNS configuration (protocol doc §9.5): what MagicDNS answers and where other names go.</summary>
internal sealed record DNSConfig
{
    /// <summary>Default resolvers.</summary>
    public IReadOnlyList<DnsResolver>? Resolvers { get; init; }

    /// <summary>Suffix → resolvers; an empty or null list = answered locally (MagicDNS).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<DnsResolver>?>? Routes { get; init; }

    /// <summary>Fallback resolvers.</summary>
    public IReadOnlyList<DnsResolver>? FallbackResolvers { get; init; }

    /// <summary>Search domains (no trailing dot).</summary>
    public IReadOnlyList<string>? Domains { get; init; }

    /// <summary>MagicDNS on.</summary>
    public bool Proxied { get; init; }

    /// <summary>Deprecated resolver addresses.</summary>
    public IReadOnlyList<string>? Nameservers { get; init; }

    /// <summary>Domains the node may get certificates for.</summary>
    public IReadOnlyList<string>? CertDomains { get; init; }

    /// <summary>Extra records MagicDNS answers.</summary>
    public IReadOnlyList<DnsRecord>? ExtraRecords { get; init; }
}

/// <summary>One resolver: <c>1.1.1.1</c>, <c>1.1.1.1:53</c>, <c>https://…</c> or <c>tls://…</c>.</summary>
internal sealed record DnsResolver
{
    /// <summary>Address or URL.</summary>
    public string? Addr { get; init; }

    /// <summary>Addresses for a DoH host name.</summary>
    public IReadOnlyList<string>? BootstrapResolution { get; init; }
}

/// <summary>One extra DNS record.</summary>
internal sealed record DnsRecord
{
    /// <summary>Fully qualified name.</summary>
    public string? Name { get; init; }

    /// <summary>Record type; empty = A/AAAA by value.</summary>
    public string? Type { get; init; }

    /// <summary>Value.</summary>
    public string? Value { get; init; }
}
