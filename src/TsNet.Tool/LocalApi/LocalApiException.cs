namespace TsNet.Tool.LocalApi;

/// <summary>The local API cannot be served at its path, or no node answers there; the message says why and what to do.</summary>
internal sealed class LocalApiException : Exception
{
    /// <summary>An exception with a user-facing <paramref name="message"/>.</summary>
    public LocalApiException(string message)
        : base(message)
    {
    }

    /// <summary>An exception with a user-facing <paramref name="message"/> and its cause.</summary>
    public LocalApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>True when another node answers on the path (the usual case of two nodes on defaults, not a fault).</summary>
    public bool PathTaken { get; init; }
}
