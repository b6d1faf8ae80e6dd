using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace TsNet.Tool.Hosting;

/// <summary>
/// An <see cref="IWebHostBuilder"/> that only collects services, so the server-side extensions written for web hosts
/// (<c>UseKestrelCore</c>, <c>ConfigureKestrel</c>, <c>UseTailnet</c>) can set up <see cref="ToolKestrel"/> without a
/// host. Everything those extensions do not use throws.
/// </summary>
internal sealed class ServiceCollectingWebHostBuilder(IServiceCollection services) : IWebHostBuilder
{
    /// <inheritdoc/>
    public IWebHostBuilder ConfigureServices(Action<IServiceCollection> configureServices)
    {
        configureServices(services);
        return this;
    }

    /// <summary>Not supported: there is no host context.</summary>
    public IWebHostBuilder ConfigureServices(Action<WebHostBuilderContext, IServiceCollection> configureServices) =>
        throw new NotSupportedException("the tool's Kestrel has no web host context");

    /// <summary>Not supported: there is no configuration.</summary>
    public IWebHostBuilder ConfigureAppConfiguration(Action<WebHostBuilderContext, IConfigurationBuilder> configureDelegate) =>
        throw new NotSupportedException("the tool's Kestrel has no configuration");

    /// <summary>No settings: always null.</summary>
    public string? GetSetting(string key) => null;

    /// <summary>Not supported: there are no settings.</summary>
    public IWebHostBuilder UseSetting(string key, string? value) =>
        throw new NotSupportedException("the tool's Kestrel has no settings");

    // The interface still names the obsolete IWebHost; this builder never makes one.
#pragma warning disable ASPDEPR008

    /// <summary>Not supported: <see cref="ToolKestrel"/> builds the server from the collected services.</summary>
    public IWebHost Build() => throw new NotSupportedException("the tool's Kestrel is not a web host");
#pragma warning restore ASPDEPR008
}
