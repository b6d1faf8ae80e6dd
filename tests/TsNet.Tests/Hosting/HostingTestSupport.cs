using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TsNet.Underlay;

namespace TsNet.Tests.Hosting;

/// <summary>What the generic-host tests share: a host without defaults, a log recorder, static in-memory nodes.</summary>
internal static class HostingTestSupport
{
    public static readonly IPNetwork A = IPNetwork.Parse("100.64.0.1/32");
    public static readonly IPNetwork B = IPNetwork.Parse("100.64.0.2/32");

    /// <summary>A host builder with nothing but what the test adds (no appsettings, environment or console logging).</summary>
    public static HostApplicationBuilder EmptyHost(LogRecorder? logs = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
        }

        return builder;
    }

    /// <summary>Sets static-mode options for a node on <paramref name="hub"/> with address <paramref name="address"/>.</summary>
    public static void StaticNode(TailnetServerOptions options, InMemoryUnderlayHub hub, IPNetwork address, WireGuardKey? key = null)
    {
        options.PrivateKey = key ?? WireGuardKey.Generate();
        options.Addresses.Add(address);
        options.TestHooks = new TailnetTestHooks { InMemoryUnderlay = hub };
    }

    /// <summary>A started static node on <paramref name="hub"/>, outside any host.</summary>
    public static async Task<TailnetServer> StartedStaticNodeAsync(InMemoryUnderlayHub hub, IPNetwork address, CancellationToken cancellationToken)
    {
        var options = new TailnetServerOptions();
        StaticNode(options, hub, address);
        var node = new TailnetServer(options);
        await node.StartAsync(cancellationToken);
        return node;
    }

    /// <summary>Makes <paramref name="a"/> and <paramref name="b"/> peers of each other (a knows b's endpoint) and waits for a ping to get through.</summary>
    public static async Task PairAsync(TailnetServer a, IPNetwork aAddress, TailnetServer b, IPNetwork bAddress, CancellationToken cancellationToken)
    {
        await a.AddOrUpdatePeerAsync(new TailnetPeer { PublicKey = b.PublicKey, Name = "b", Endpoint = "127.0.0.1:" + b.ListenPort, AllowedIps = { bAddress } }, cancellationToken);
        await b.AddOrUpdatePeerAsync(new TailnetPeer { PublicKey = a.PublicKey, Name = "a", AllowedIps = { aAddress } }, cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await a.PingAsync(bAddress.BaseAddress, TimeSpan.FromSeconds(2), cancellationToken);
                return;
            }
            catch (TimeoutException) when (attempt < 5)
            {
            }
        }
    }

    public static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    public static TailnetServer Node(this IHost host) => host.Services.GetRequiredService<TailnetServer>();
}

/// <summary>Collects every log entry as <c>Level Category[EventId]: message</c>.</summary>
internal sealed class LogRecorder : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _entries = new();

    public IReadOnlyCollection<string> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Recorder(categoryName, _entries);

    public void Dispose()
    {
    }

    private sealed class Recorder(string category, ConcurrentQueue<string> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue($"{logLevel} {category}[{eventId.Id}]: {formatter(state, exception)}");
    }
}
