namespace TsNet.Control.Netmap;

/// <summary>A node's short name (<c>web</c>) and full DNS name without the trailing dot (<c>web.tailnet.example</c>).</summary>
internal readonly record struct NodeNames(string? Short, string? Full)
{
    /// <summary>
    /// Names from <c>Node.Name</c>: a dotted name is the full name and its first label the short one; an undotted
    /// one (older servers without MagicDNS) is the short name, and the full name adds <paramref name="domain"/>.
    /// An empty name falls back to <paramref name="hostname"/> as the short name.
    /// </summary>
    public static NodeNames From(string? name, string? domain, string? hostname)
    {
        var trimmed = name?.Trim().TrimEnd('.');
        if (string.IsNullOrEmpty(trimmed))
        {
            trimmed = string.IsNullOrWhiteSpace(hostname) ? null : hostname.Trim();
            if (trimmed is null)
            {
                return default;
            }
        }

        var dot = trimmed.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            return new(trimmed[..dot], trimmed);
        }

        if (dot == 0)
        {
            return default;
        }

        var suffix = domain?.Trim().Trim('.');
        return new(trimmed, string.IsNullOrEmpty(suffix) ? null : trimmed + "." + suffix);
    }
}
