using System.Text.Json.Serialization;

namespace TsNet.Control.Protocol;

/// <summary>
/// <c>POST /machine/register</c> body (protocol doc §8.1). JSON names are Go's field names; zero keys, empty
/// strings and false flags are left out (Go's <c>omitempty</c>, and servers reject <c>""</c> for keys). Keys are
/// their text forms (<see cref="ControlKeyText"/>).
/// </summary>
internal sealed record RegisterRequest
{
    /// <summary>Capability version (also in <c>/key?v=</c> and the Noise prologue).</summary>
    public int Version { get; init; }

    /// <summary>The node's current public node key, <c>nodekey:</c> text (<see cref="ControlKeyText"/>). Required.</summary>
    public string? NodeKey { get; init; }

    /// <summary>The previous node key when rotating, <c>nodekey:</c> text; null otherwise (never <c>""</c>: Go rejects it).</summary>
    public string? OldNodeKey { get; init; }

    /// <summary>Pre-auth key; null for interactive login, restart and logout.</summary>
    public RegisterAuth? Auth { get; init; }

    /// <summary>Requested key expiry; null = no request; a past time with the current key = logout.</summary>
    [JsonConverter(typeof(GoTimeJsonConverter))]
    public DateTimeOffset? Expiry { get; init; }

    /// <summary>A previously received <c>AuthURL</c>: long-poll until the user completes the login.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? Followup { get; init; }

    /// <summary>What the node says about itself (§8.5).</summary>
    public Hostinfo? Hostinfo { get; init; }

    /// <summary>Asks for an ephemeral node (removed when it goes away).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Ephemeral { get; init; }

    /// <summary>Client clock, seconds precision (optional).</summary>
    [JsonConverter(typeof(GoTimeJsonConverter))]
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>The logout request's expiry: Go's <c>time.Unix(123, 0)</c>.</summary>
    public static DateTimeOffset LogoutExpiry { get; } = DateTimeOffset.FromUnixTimeSeconds(123);
}

/// <summary><c>RegisterRequest.Auth</c>.</summary>
internal sealed record RegisterAuth
{
    /// <summary>The pre-auth key. Never written to disk.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? AuthKey { get; init; }
}
