using TsNet.Control.Protocol;

namespace TsNet.Control.Client;

/// <summary>What a register answer means for the session (protocol doc §8.2–§8.3).</summary>
internal enum RegisterOutcome
{
    /// <summary>Registered: poll the map.</summary>
    Authorized,

    /// <summary>An interactive login is pending at <see cref="RegisterDecision.AuthUrl"/>: show it, follow up.</summary>
    LoginRequired,

    /// <summary>The server refused (<see cref="RegisterDecision.Message"/>).</summary>
    Refused,

    /// <summary>The node key expired: make a new one and register again with it.</summary>
    NodeKeyExpired,

    /// <summary>A stored login was not accepted and an auth key is at hand: register again with it.</summary>
    RetryWithAuthKey,
}

/// <summary>
/// The register step's decision, sans-IO: from one answer and whether the request carried the auth key, what to do
/// next. A stored login (sent without the key) that the server no longer accepts falls back to the key when the
/// node has one, before anything is reported.
/// </summary>
internal readonly record struct RegisterDecision(RegisterOutcome Outcome, string? Message = null, Uri? AuthUrl = null)
{
    /// <summary>Decides for <paramref name="response"/>; <paramref name="sentAuthKey"/>: the request carried the key; <paramref name="haveAuthKey"/>: one is configured.</summary>
    public static RegisterDecision Decide(RegisterResponse response, bool sentAuthKey, bool haveAuthKey)
    {
        ArgumentNullException.ThrowIfNull(response);
        var canRetryWithKey = !sentAuthKey && haveAuthKey;
        if (response.IsError)
        {
            return canRetryWithKey ? new(RegisterOutcome.RetryWithAuthKey, response.Error) : new(RegisterOutcome.Refused, response.Error);
        }

        if (response.NodeKeyExpired)
        {
            return new(RegisterOutcome.NodeKeyExpired);
        }

        if (response.NeedsLogin)
        {
            if (canRetryWithKey)
            {
                return new(RegisterOutcome.RetryWithAuthKey, "login required");
            }

            return Uri.TryCreate(response.AuthURL, UriKind.Absolute, out var url)
                ? new(RegisterOutcome.LoginRequired, AuthUrl: url)
                : new(RegisterOutcome.Refused, $"the server asked for a login at an unusable URL \"{response.AuthURL}\"");
        }

        // No error, no pending login: registered. MachineAuthorized false without an AuthURL means an admin must still
        // approve the device (Go then polls the map all the same and sees it in the netmap).
        return new(RegisterOutcome.Authorized);
    }
}
