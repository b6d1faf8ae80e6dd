namespace TsNet.Control.Protocol;

/// <summary><c>MapResponse.UserProfiles</c> entry: who owns nodes (upserted by <see cref="ID"/>).</summary>
internal sealed record UserProfile
{
    /// <summary>User ID (<c>Node.User</c>).</summary>
    public long ID { get; init; }

    /// <summary>Login name (<c>user@example.com</c>, or <c>tagged-devices</c>).</summary>
    public string? LoginName { get; init; }

    /// <summary>Display name.</summary>
    public string? DisplayName { get; init; }

    /// <summary>Picture URL.</summary>
    public string? ProfilePicURL { get; init; }
}
