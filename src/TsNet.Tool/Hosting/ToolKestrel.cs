using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TsNet.Tool.Hosting;

/// <summary>
/// The server the tool's HTTP endpoints run on (<c>up --http</c>, <c>relay --allocate</c>): Kestrel and nothing else.
/// No web host, generic host, configuration, routing or middleware pipeline: Kestrel's own services (the trimmed
/// <c>UseKestrelCore</c> set, without HTTPS) in a service provider of their own, serving one
/// <see cref="RequestDelegate"/>. So <c>ASPNETCORE_URLS</c> or an <c>appsettings.json</c> in the working directory never
/// add a listener, nothing registers signal handlers (the tool handles SIGINT/SIGTERM itself), there is no
/// <c>Server</c> header, and the native binary does not carry the hosting stack (see the README's native figures).
/// Logs go through the tool's logger (<see cref="FrameworkLogFilter"/>).
/// </summary>
internal sealed class ToolKestrel : IAsyncDisposable
{
    /// <summary>How long a stopping server lets requests in flight finish before it aborts their connections.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    private readonly ServiceProvider _services;
    private readonly IServer _server;
    private readonly DiagnosticListener _diagnostics;
    private int _disposed;

    private ToolKestrel(ServiceProvider services, IServer server, DiagnosticListener diagnostics)
    {
        _services = services;
        _server = server;
        _diagnostics = diagnostics;
    }

    /// <summary>The server's features (e.g. the bound addresses).</summary>
    public IFeatureCollection Features => _server.Features;

    /// <summary>
    /// Starts Kestrel serving <paramref name="application"/>: <paramref name="configureServer"/> adds transports
    /// (e.g. <c>UseTailnet</c>) and <paramref name="configureOptions"/> endpoints and limits.
    /// </summary>
    public static async Task<ToolKestrel> StartAsync(ILoggerFactory loggerFactory, bool verbose, Action<IWebHostBuilder> configureServer, Action<KestrelServerOptions> configureOptions, RequestDelegate application, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        var builder = new ServiceCollectingWebHostBuilder(services);
        builder.UseKestrelCore();
        builder.ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            configureOptions(options);
        });
        configureServer(builder);
        services.AddSingleton<ILoggerFactory>(new FrameworkLogFilter(loggerFactory, verbose));
        services.AddSingleton<System.Diagnostics.Metrics.IMeterFactory, ToolMeterFactory>();

        // Kestrel reports bad requests to a diagnostic source (as the web host's "Microsoft.AspNetCore" listener); nobody subscribes here.
        var diagnostics = new DiagnosticListener("Microsoft.AspNetCore");
        services.AddSingleton<DiagnosticSource>(diagnostics);
        var provider = services.BuildServiceProvider();
        try
        {
            var server = provider.GetRequiredService<IServer>();
            await server.StartAsync(new ToolHttpApplication(application), cancellationToken).ConfigureAwait(false);
            return new ToolKestrel(provider, server, diagnostics);
        }
        catch
        {
            await provider.DisposeAsync().ConfigureAwait(false);
            diagnostics.Dispose();
            throw;
        }
    }

    /// <summary>Stops within <see cref="StopGrace"/> (then aborts what is left) and releases the server. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        using (var grace = new CancellationTokenSource(StopGrace))
        {
            try
            {
                await _server.StopAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The grace ran out: Kestrel has aborted the remaining connections.
            }
        }

        await _services.DisposeAsync().ConfigureAwait(false);
        _diagnostics.Dispose();
    }
}
