using System.Net;
using TsNet.Control.Protocol;
using TsNet.Control.Session;
using TsNet.Control.State;

namespace TsNet.Control.Client;

// The register step of ControlClient (protocol doc §8.3) and the state it changes.
internal sealed partial class ControlClient
{
    /// <summary>The register step (doc §8.3); false when the server refused the node (reported; the session stops).</summary>
    private async Task<bool> RegisterAsync(IControlObserver observer, IControlChannel channel, bool storedLoginFirst, CancellationToken cancellationToken)
    {
        var haveAuthKey = !string.IsNullOrEmpty(_context.AuthKey);
        var sendAuthKey = !(storedLoginFirst && HasStoredLogin());
        Uri? followup = null;
        Uri? reported = null;
        var rotations = 0;
        _followupBackoff.Reset();
        while (true)
        {
            var request = ControlRequests.Register(_context, State, sendAuthKey ? _context.AuthKey : null, followup?.ToString(), _time.GetUtcNow());
            RegisterResponse response;
            try
            {
                if (followup is null)
                {
                    using var bound = Bound(RegisterTimeout, cancellationToken);
                    response = await channel.RegisterAsync(request, bound.Token).ConfigureAwait(false);
                }
                else
                {
                    // A follow-up is held by the server until a person completes the login: no bound of ours.
                    response = await channel.RegisterAsync(request, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (ControlHttpException e) when (e.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                // Headscale answers 400 "unsupported client version"; retrying cannot change such an answer.
                var message = $"HTTP {(int)e.StatusCode}: {e.Body}";
                ControlClientLog.LoginRefused(_logger, message);
                observer.OnLoginRefused(message);
                return false;
            }

            var decision = RegisterDecision.Decide(response, sentAuthKey: sendAuthKey && haveAuthKey, haveAuthKey);
            switch (decision.Outcome)
            {
                case RegisterOutcome.RetryWithAuthKey:
                    ControlClientLog.StoredLoginNotAccepted(_logger, decision.Message);
                    sendAuthKey = true;
                    followup = null;
                    break;

                case RegisterOutcome.Refused:
                    ControlClientLog.LoginRefused(_logger, decision.Message ?? string.Empty);
                    observer.OnLoginRefused(decision.Message ?? string.Empty);
                    return false;

                case RegisterOutcome.NodeKeyExpired:
                    if (++rotations > MaxKeyRotationsPerRegistration)
                    {
                        throw new ControlProtocolException($"The control server called {rotations} new node keys in a row expired.");
                    }

                    await RotateNodeKeyAsync(observer, cancellationToken).ConfigureAwait(false);
                    sendAuthKey = true;
                    followup = null;
                    break;

                case RegisterOutcome.LoginRequired:
                    var url = decision.AuthUrl!;
                    if (followup is not null)
                    {
                        // The server answered the follow-up without the login completing (a timeout): ask again, paced.
                        var wait = _followupBackoff.Next();
                        ControlClientLog.FollowupWaiting(_logger, (long)wait.TotalMilliseconds, url);
                        await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                    }

                    if (reported != url)
                    {
                        reported = url;
                        ControlClientLog.LoginRequired(_logger, url);
                        observer.OnLoginRequired(url);
                    }

                    followup = url;
                    break;

                default:
                    var state = UpdateState(state => state with { LoggedIn = true, ControlUrl = _context.ControlUrl.ToString(), OldNodeKey = null });
                    _everAuthorized = true;
                    ControlClientLog.Registered(_logger, _context.ControlUrl, ControlRequests.NodeKeyText(state.NodeKey));
                    return true;
            }
        }
    }

    private async Task RotateNodeKeyAsync(IControlObserver observer, CancellationToken cancellationToken)
    {
        var state = UpdateState(static state => state.WithNewNodeKey());
        ControlClientLog.NodeKeyRotated(_logger, ControlRequests.NodeKeyText(state.NodeKey));
        try
        {
            await observer.OnNodeKeyChangedAsync(state.NodeKey, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SessionFaultException("The node failed to take its new node key.", e);
        }
    }

    private bool HasStoredLogin()
    {
        var state = State;
        return state.LoggedIn && state.ControlUrl is { } url
            && string.Equals(url.TrimEnd('/'), _context.ControlUrl.ToString().TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Changes the state and saves it when there is a state directory (a failure there is fatal).</summary>
    private ControlState UpdateState(Func<ControlState, ControlState> change)
    {
        ControlState state;
        lock (_lock)
        {
            state = change(_state);
            _state = state;
        }

        if (_context.StateDirectory is { } directory)
        {
            try
            {
                ControlStateStore.Save(directory, state);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SessionFaultException($"The control state cannot be saved in '{directory}': {e.Message}", e);
            }
        }

        return state;
    }
}
