using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace TsNet.AspNetCore;

/// <summary>
/// Serves an ASP.NET Core app on a tailnet: Kestrel listens on a TCP port of a <see cref="TailnetServer"/> through
/// the node's userspace network stack. No host socket is opened for that port; the app is reachable only by peers.
/// </summary>
/// <remarks>
/// The host must use Kestrel (<c>WebApplication.CreateBuilder</c> and <c>ConfigureWebHostDefaults</c> do). Kestrel
/// starts the node when it binds (<see cref="TailnetServer.StartAsync"/> is idempotent) and closes the tailnet port
/// when the host stops; the node itself stays owned, and disposed, by the caller. Endpoints that Kestrel is given in
/// code take precedence over URLs from configuration (<c>ASPNETCORE_URLS</c>), so calling this alone means the app
/// listens on the tailnet only; add <c>KestrelServerOptions.Listen</c> calls to listen on host addresses as well.
/// </remarks>
public static class TailnetWebHostBuilderExtensions
{
    /// <summary>Makes Kestrel listen for HTTP on <paramref name="port"/> of <paramref name="server"/>'s overlay addresses.</summary>
    /// <param name="builder">The web host to configure (for a <c>WebApplicationBuilder</c>, its <c>WebHost</c>).</param>
    /// <param name="server">The tailnet node to serve on; started by Kestrel if it is not yet.</param>
    /// <param name="port">The TCP port on the tailnet, 1–65535.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is not 1–65535.</exception>
    public static IWebHostBuilder UseTailnet(this IWebHostBuilder builder, TailnetServer server, int port) =>
        UseTailnet(builder, server, port, static _ => { });

    /// <summary>
    /// Makes Kestrel listen on <paramref name="port"/> of <paramref name="server"/>'s overlay addresses, with
    /// <paramref name="configure"/> setting up that listener (protocols, HTTPS, connection middleware).
    /// </summary>
    /// <param name="builder">The web host to configure (for a <c>WebApplicationBuilder</c>, its <c>WebHost</c>).</param>
    /// <param name="server">The tailnet node to serve on; started by Kestrel if it is not yet.</param>
    /// <param name="port">The TCP port on the tailnet, 1–65535.</param>
    /// <param name="configure">Configures the listener, as for <c>KestrelServerOptions.Listen</c>.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is not 1–65535.</exception>
    public static IWebHostBuilder UseTailnet(this IWebHostBuilder builder, TailnetServer server, int port, Action<ListenOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var endPoint = new TailnetEndPoint(server, port);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.ConfigureServices(services => AddTailnetListener(services, endPoint, configure));
    }

    /// <summary>
    /// Makes Kestrel listen for HTTP on <paramref name="port"/> of the <see cref="TailnetServer"/> registered in the
    /// host's services (by <c>services.AddTailnet(...)</c> of <c>TsNet.Extensions.Hosting</c>, or your own singleton).
    /// </summary>
    /// <param name="builder">The web host to configure (for a <c>WebApplicationBuilder</c>, its <c>WebHost</c>).</param>
    /// <param name="port">The TCP port on the tailnet, 1–65535.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is not 1–65535.</exception>
    /// <remarks>The node is taken from the services when Kestrel reads its options (as a <c>WebApplication</c> is built); none registered fails there, saying so.</remarks>
    public static IWebHostBuilder UseTailnet(this IWebHostBuilder builder, int port) =>
        UseTailnet(builder, port, static _ => { });

    /// <summary>
    /// Makes Kestrel listen on <paramref name="port"/> of the <see cref="TailnetServer"/> registered in the host's
    /// services, with <paramref name="configure"/> setting up that listener (protocols, HTTPS, connection middleware).
    /// </summary>
    /// <param name="builder">The web host to configure (for a <c>WebApplicationBuilder</c>, its <c>WebHost</c>).</param>
    /// <param name="port">The TCP port on the tailnet, 1–65535.</param>
    /// <param name="configure">Configures the listener, as for <c>KestrelServerOptions.Listen</c>.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is not 1–65535.</exception>
    public static IWebHostBuilder UseTailnet(this IWebHostBuilder builder, int port, Action<ListenOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        ArgumentNullException.ThrowIfNull(configure);
        return builder.ConfigureServices(services =>
        {
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, TailnetConnectionListenerFactory>());
            services.AddOptions<KestrelServerOptions>().Configure<IServiceProvider>((options, provider) =>
            {
                var server = provider.GetService<TailnetServer>() ?? throw new InvalidOperationException(
                    $"UseTailnet({port}) serves on the TailnetServer of the host's services, and none is registered: call services.AddTailnet(...) (package TsNet.Extensions.Hosting), or pass a node to UseTailnet(server, port).");
                options.Listen(new TailnetEndPoint(server, port), configure);
            });
        });
    }

    /// <summary>
    /// Makes Kestrel listen for HTTP on <paramref name="port"/> of <paramref name="server"/>'s overlay addresses
    /// (for a <c>WebApplicationBuilder</c> or another host builder that runs Kestrel).
    /// </summary>
    /// <typeparam name="TBuilder">The builder's type, kept for chaining.</typeparam>
    /// <param name="builder">The application builder to configure.</param>
    /// <param name="server">The tailnet node to serve on; started by Kestrel if it is not yet.</param>
    /// <param name="port">The TCP port on the tailnet, 1–65535.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is not 1–65535.</exception>
    public static TBuilder UseTailnet<TBuilder>(this TBuilder builder, TailnetServer server, int port)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddTailnetListener(builder.Services, new TailnetEndPoint(server, port), static _ => { });
        return builder;
    }

    private static void AddTailnetListener(IServiceCollection services, TailnetEndPoint endPoint, Action<ListenOptions> configure)
    {
        // One factory serves every tailnet endpoint (each carries its node), however often UseTailnet is called.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, TailnetConnectionListenerFactory>());
        services.Configure<KestrelServerOptions>(options => options.Listen(endPoint, configure));
    }
}
