using System.Net;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TsNet.Tests.Facade;

/// <summary>Two peers listing the same AllowedIPs prefix: a warning naming both peers and the prefix.</summary>
public sealed class AllowedIpsOverlapTests
{
    [Fact]
    public async Task TwoConfiguredPeersWithTheSamePrefix_WarnNamingBothAndThePrefix()
    {
        var logs = new CapturingLoggerFactory();
        var db = WireGuardKey.Generate().PublicKey;
        var web = WireGuardKey.Generate().PublicKey;
        var options = new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
            LoggerFactory = logs,
        };
        options.Peers.Add(new TailnetPeer { PublicKey = db, Name = "db", AllowedIps = { IPNetwork.Parse("100.64.0.7/32"), IPNetwork.Parse("10.1.0.0/16") } });
        options.Peers.Add(new TailnetPeer { PublicKey = web, Name = "web", AllowedIps = { IPNetwork.Parse("100.64.0.8/32"), IPNetwork.Parse("10.1.0.0/16") } });

        await using var node = new TailnetServer(options);

        var warning = logs.Entries.Should().ContainSingle(e => e.EventId == 1190).Subject;
        warning.Level.Should().Be(LogLevel.Warning);
        warning.Message.Should().Contain("'db'").And.Contain(db.ToString()).And.Contain("'web'").And.Contain(web.ToString()).And.Contain("10.1.0.0/16");
    }

    [Fact]
    public async Task APrefixInsideAnotherPeersWiderPrefix_IsRoutingNotAWarning()
    {
        var logs = new CapturingLoggerFactory();
        var options = new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
            LoggerFactory = logs,
        };
        options.Peers.Add(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, AllowedIps = { IPNetwork.Parse("10.1.0.0/16") } });
        options.Peers.Add(new TailnetPeer { PublicKey = WireGuardKey.Generate().PublicKey, AllowedIps = { IPNetwork.Parse("10.1.2.0/24") } });

        await using var node = new TailnetServer(options);

        logs.Entries.Should().NotContain(e => e.EventId == 1190);
    }

    [Fact]
    public async Task APeerAddedAtRunTimeWithATakenPrefix_Warns_AndUpdatingThatSamePeerDoesNot()
    {
        var logs = new CapturingLoggerFactory();
        var first = WireGuardKey.Generate().PublicKey;
        var options = new TailnetServerOptions
        {
            PrivateKey = WireGuardKey.Generate(),
            Addresses = { IPNetwork.Parse("100.64.0.1/32") },
            LoggerFactory = logs,
        };
        options.Peers.Add(new TailnetPeer { PublicKey = first, AllowedIps = { IPNetwork.Parse("100.64.0.7/32") } });
        await using var node = new TailnetServer(options);

        node.AddOrUpdatePeer(new TailnetPeer { PublicKey = first, Name = "renamed", AllowedIps = { IPNetwork.Parse("100.64.0.7/32") } });
        logs.Entries.Should().NotContain(e => e.EventId == 1190, "a peer does not overlap with itself");

        var second = WireGuardKey.Generate().PublicKey;
        node.AddOrUpdatePeer(new TailnetPeer { PublicKey = second, Name = "copy", AllowedIps = { IPNetwork.Parse("100.64.0.7/32") } });

        logs.Entries.Should().ContainSingle(e => e.EventId == 1190).Which.Message
            .Should().Contain("'renamed'").And.Contain(first.ToString()).And.Contain("'copy'").And.Contain(second.ToString()).And.Contain("100.64.0.7/32");
    }

    private sealed record LogEntry(LogLevel Level, int EventId, string Message);

    private sealed class CapturingLoggerFactory : ILoggerFactory
    {
        public ConcurrentQueue<LogEntry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new CapturingLogger(Entries);

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public void Dispose()
        {
        }

        private sealed class CapturingLogger(ConcurrentQueue<LogEntry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new LogEntry(logLevel, eventId.Id, formatter(state, exception)));
        }
    }
}
