using Microsoft.Extensions.Diagnostics.HealthChecks;
using TsNet;
using TsNet.AspNetCore;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the tailnet node's health to ASP.NET Core health checks (<c>app.MapHealthChecks("/healthz")</c>).</summary>
public static class TailnetHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check of the <see cref="TailnetServer"/> registered in the services (<c>services.AddTailnet(...)</c>):
    /// Healthy while Running; Degraded while it starts, a login is pending (the URL is in the data as <c>authUrl</c>)
    /// or the connection to the coordination server is down; Unhealthy when Stopped, Expired or Faulted.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name in the report.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IHealthChecksBuilder AddTailnet(this IHealthChecksBuilder builder, string name = "tailnet")
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return builder.Add(new HealthCheckRegistration(
            name,
            provider => new TailnetHealthCheck(provider.GetRequiredService<TailnetServer>()),
            failureStatus: null,
            tags: null));
    }
}
