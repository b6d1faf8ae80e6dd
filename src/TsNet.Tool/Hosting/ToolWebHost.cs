using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TsNet.Tool.Hosting;

/// <summary>
/// The ASP.NET Core host the tool's HTTP servers run on (<c>up --http</c>, <c>relay --allocate</c>): Kestrel and
/// nothing else. No configuration sources (so <c>ASPNETCORE_URLS</c> or an <c>appsettings.json</c> in the working
/// directory never add a host listener), no console lifetime (the tool handles SIGINT/SIGTERM itself), no
/// <c>Server</c> header, and logs through the tool's logger on stderr — ASP.NET Core's own categories only from
/// Warning up (Debug with <c>--verbose</c>), so a request never costs a log line by default.
/// </summary>
internal static class ToolWebHost
{
    /// <summary>How long a stopping server lets requests in flight finish before it aborts their connections.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    /// <summary>A builder with the tool's defaults; the caller adds endpoints, limits and the pipeline.</summary>
    public static WebApplicationBuilder CreateBuilder(ILoggerFactory loggerFactory, bool verbose)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(options => options.AddServerHeader = false);
        builder.Services.AddSingleton<IHostLifetime, ToolHostLifetime>();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new ToolLoggerProvider(loggerFactory));
        builder.Logging.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", verbose ? LogLevel.Debug : LogLevel.Warning);
        return builder;
    }

    /// <summary>Stops <paramref name="app"/> within <see cref="StopGrace"/> (then aborts what is left) and disposes it.</summary>
    public static async ValueTask StopAndDisposeAsync(WebApplication app)
    {
        using (var grace = new CancellationTokenSource(StopGrace))
        {
            try
            {
                await app.StopAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The grace ran out: Kestrel has aborted the remaining connections.
            }
        }

        await app.DisposeAsync().ConfigureAwait(false);
    }
}
