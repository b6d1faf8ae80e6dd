using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TsNet;
using TsNet.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers a tailnet node with the generic host: a singleton <see cref="TailnetServer"/> built from
/// <see cref="TailnetServerOptions"/> (the options pattern: <c>IOptions&lt;TailnetServerOptions&gt;</c>), and a hosted
/// service that starts the node when the host starts and disposes it once the host has stopped.
/// </summary>
/// <remarks>
/// Starting never waits for a login: with interactive login the node stays in <see cref="TailnetState.NeedsLogin"/>
/// (the URL is logged, and the health check of <c>TsNet.AspNetCore</c> reports it) while the rest of the host runs.
/// Invalid options fail the host's start with the message <see cref="TailnetServer(TailnetServerOptions)"/> gives.
/// The node logs through the host's <see cref="ILoggerFactory"/> unless the options name another. Calling
/// <c>AddTailnet</c> more than once adds configuration to the same single node.
/// </remarks>
public static class TailnetServiceCollectionExtensions
{
    /// <summary>
    /// Adds a tailnet node whose options are bound from <paramref name="section"/> (for example
    /// <c>builder.Configuration.GetSection("Tailnet")</c>). Keys: <c>ControlUrl</c>, <c>AuthKey</c>, <c>Hostname</c>,
    /// <c>StateDirectory</c>, <c>Ephemeral</c>, <c>AdvertiseTags</c>, <c>AdvertiseRoutes</c>, <c>AcceptRoutes</c>,
    /// <c>CapabilityVersion</c>, <c>ListenPort</c>, <c>Mtu</c>, <c>QueueCapacity</c>, <c>DnsSuffix</c>,
    /// <c>Addresses</c>, <c>PrivateKey</c>, and <c>WireGuardConfigFile</c> (a wg-quick file for static mode, read
    /// first; relative to the content root; the other keys then override it). Lists are JSON arrays or
    /// comma-separated text. An unknown key or a value of the wrong kind fails the host's start naming the key.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="section">The configuration section holding the node's settings.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddTailnet(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<TailnetServerOptions>().Configure<IServiceProvider>((options, provider) =>
        {
            var contentRoot = provider.GetService<IHostEnvironment>()?.ContentRootPath;
            var logger = LoggerFor(provider);
            TailnetConfigurationBinder.Bind(section, options, contentRoot, warning => Log.ConfigurationWarning(logger, warning));
        });
        return AddTailnetCore(services);
    }

    /// <summary>Adds a tailnet node whose options <paramref name="configure"/> sets (on top of any bound from configuration).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the node's options.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddTailnet(this IServiceCollection services, Action<TailnetServerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<TailnetServerOptions>().Configure(configure);
        return AddTailnetCore(services);
    }

    private static IServiceCollection AddTailnetCore(IServiceCollection services)
    {
        services.TryAddSingleton(CreateServer);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TailnetHostedService>());
        return services;
    }

    /// <summary>The node: options validated here, so a bad setting fails the host's start with the node's own message.</summary>
    private static TailnetServer CreateServer(IServiceProvider provider)
    {
        var options = provider.GetRequiredService<IOptions<TailnetServerOptions>>().Value;
        if (ReferenceEquals(options.LoggerFactory, NullLoggerFactory.Instance) && provider.GetService<ILoggerFactory>() is { } loggerFactory)
        {
            options.LoggerFactory = loggerFactory;
        }

        return new TailnetServer(options);
    }

    private static ILogger LoggerFor(IServiceProvider provider) =>
        provider.GetService<ILoggerFactory>()?.CreateLogger(Log.Category) ?? NullLogger.Instance;
}
