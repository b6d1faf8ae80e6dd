using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TsNet.AspNetCore;

/// <summary>
/// The health of a tailnet node, from its <see cref="TailnetServer.State"/>: healthy while Running (a static node once
/// started; a node in control mode while its map stream to the coordination server is up), degraded while it starts,
/// waits for an interactive login (the URL is in the result's data as <c>authUrl</c>) or has lost the coordination
/// server (traffic with known peers goes on meanwhile), unhealthy when Stopped, Expired or Faulted.
/// </summary>
internal sealed class TailnetHealthCheck(TailnetServer server) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var state = server.State;
        var data = new Dictionary<string, object> { ["state"] = state.ToString() };
        if (server.DnsName is { } dnsName)
        {
            data["dnsName"] = dnsName;
        }

        var result = state switch
        {
            TailnetState.NeedsLogin => Degraded(data, server.AuthUrl),
            TailnetState.Starting => new HealthCheckResult(HealthStatus.Degraded, "The tailnet node is starting: registering with the coordination server.", data: data),
            TailnetState.Running => Running(data),
            TailnetState.Expired => new HealthCheckResult(HealthStatus.Unhealthy, "The tailnet node's key expired: peers do not talk to it until it logs in again.", data: data),
            TailnetState.Faulted => new HealthCheckResult(HealthStatus.Unhealthy, "The tailnet node faulted and serves nothing more.", data: data),
            _ => new HealthCheckResult(HealthStatus.Unhealthy, "The tailnet node is stopped.", data: data),
        };
        return Task.FromResult(result);
    }

    private static HealthCheckResult Degraded(Dictionary<string, object> data, Uri? authUrl)
    {
        if (authUrl is not null)
        {
            data["authUrl"] = authUrl.AbsoluteUri;
        }

        return new HealthCheckResult(HealthStatus.Degraded, $"The tailnet node waits for a login: open {authUrl?.AbsoluteUri ?? "the login URL"}.", data: data);
    }

    private HealthCheckResult Running(Dictionary<string, object> data)
    {
        TailnetStatus status;
        try
        {
            status = server.GetStatus();
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            return new HealthCheckResult(HealthStatus.Unhealthy, "The tailnet node is stopping.", ex, data);
        }

        if (status.Fault is { } fault)
        {
            return new HealthCheckResult(HealthStatus.Unhealthy, "The tailnet node faulted: " + fault, data: data);
        }

        data["peers"] = status.Peers.Count;
        // A DNS name is what a node in control mode has once Running; a static node has no coordination server to lose.
        var controlMode = status.DnsName is not null;
        if (controlMode)
        {
            data["controlConnected"] = status.ControlConnected;
            if (!status.ControlConnected)
            {
                return new HealthCheckResult(HealthStatus.Degraded, "The tailnet node lost the coordination server; traffic with known peers goes on while it reconnects.", data: data);
            }
        }

        return HealthCheckResult.Healthy("The tailnet node is running.", data);
    }
}
