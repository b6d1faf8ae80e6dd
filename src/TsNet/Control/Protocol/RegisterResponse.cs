using System.Text.Json.Serialization;

namespace TsNet.Control.Protocol;

/// <summary><c>/machine/register</c> answer (protocol doc §8.2). A non-empty <see cref="Error"/> voids the rest.</summary>
internal sealed record RegisterResponse
{
    /// <summary>The node's owner.</summary>
    public RegisterUser? User { get; init; }

    /// <summary>The login that registered the node.</summary>
    public RegisterLogin? Login { get; init; }

    /// <summary>The presented node key has expired: make a new one and register again.</summary>
    public bool NodeKeyExpired { get; init; }

    /// <summary>The node may use the tailnet.</summary>
    public bool MachineAuthorized { get; init; }

    /// <summary>Non-empty: login pending; show it, then register again with it as <c>Followup</c>.</summary>
    public string? AuthURL { get; init; }

    /// <summary>Non-empty: the server refused (for example <c>invalid authkey</c>).</summary>
    public string? Error { get; init; }

    /// <summary>True when the server refused the request (<see cref="Error"/> set).</summary>
    [JsonIgnore]
    public bool IsError => !string.IsNullOrEmpty(Error);

    /// <summary>True when the user must complete a login at <see cref="AuthURL"/>.</summary>
    [JsonIgnore]
    public bool NeedsLogin => !IsError && !string.IsNullOrEmpty(AuthURL);
}

/// <summary><c>RegisterResponse.User</c>.</summary>
internal sealed record RegisterUser
{
    /// <summary>User ID (matches <c>Node.User</c>).</summary>
    public long ID { get; init; }

    /// <summary>Display name.</summary>
    public string? DisplayName { get; init; }

    /// <summary>Picture URL.</summary>
    public string? ProfilePicURL { get; init; }
}

/// <summary><c>RegisterResponse.Login</c>.</summary>
internal sealed record RegisterLogin
{
    /// <summary>Login ID.</summary>
    public long ID { get; init; }

    /// <summary>Identity provider.</summary>
    public string? Provider { get; init; }

    /// <summary>Login name (for example <c>user@example.com</c>).</summary>
    public string? LoginName { get; init; }

    /// <summary>Display name.</summary>
    public string? DisplayName { get; init; }
}
