namespace TsNet.Tool.LocalApi;

/// <summary>The property names that say what a local API answer line is (see <see cref="LocalApiProtocol"/>).</summary>
internal static class LocalApiAnswerKind
{
    /// <summary>The node's <see cref="TailnetStatus"/>.</summary>
    public const string Status = "status";

    /// <summary>One ping reply (<see cref="PingReply"/>).</summary>
    public const string Pong = "pong";

    /// <summary>One ping attempt without a reply, with the reason.</summary>
    public const string NoReply = "noReply";

    /// <summary>The <see cref="TailnetPeerIdentity"/> behind an address.</summary>
    public const string Identity = "identity";

    /// <summary>No peer owns the address, with the reason.</summary>
    public const string Unknown = "unknown";

    /// <summary>The request failed, with the reason.</summary>
    public const string Error = "error";
}
