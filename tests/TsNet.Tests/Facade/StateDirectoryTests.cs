using System.Net;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;

namespace TsNet.Tests.Facade;

/// <summary>TailnetServerOptions.StateDirectory: the node key is generated once into node.key (0600) and reused.</summary>
[UnsupportedOSPlatform("windows")] // file modes are the point of these tests
public sealed class StateDirectoryTests : IDisposable
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("tsnet-state-");

    public void Dispose() => _root.Delete(recursive: true);

    private static TailnetServerOptions Options(string directory, ILoggerFactory? loggerFactory = null) => new()
    {
        StateDirectory = directory,
        Addresses = { IPNetwork.Parse("100.64.0.1/32") },
        LoggerFactory = loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
    };

    [Fact]
    public async Task FirstServer_CreatesOwnerOnlyKeyFile_AndTheNextServerReusesIt()
    {
        var directory = Path.Combine(_root.FullName, "state", "node-a");
        var first = new TailnetServer(Options(directory));
        var path = Path.Combine(directory, "node.key");

        // Created by the constructor, before any start.
        File.Exists(path).Should().BeTrue();
        File.GetUnixFileMode(path).Should().Be(OwnerReadWrite);
        File.GetUnixFileMode(directory).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var text = await File.ReadAllTextAsync(path);
        text.Should().EndWith("\n").And.HaveLength(45);
        WireGuardKey.Parse(text).PublicKey.Should().Be(first.PublicKey);
        Directory.GetFiles(directory).Should().ContainSingle("the temporary file is renamed into place");

        await first.StartAsync();
        first.ListenPort.Should().BeGreaterThan(0);
        await first.DisposeAsync();

        await using var second = new TailnetServer(Options(directory));
        second.PublicKey.Should().Be(first.PublicKey);
        (await File.ReadAllTextAsync(path)).Should().Be(text);
    }

    [Fact]
    public void ExistingDirectory_KeepsItsMode_AndGetsTheKey()
    {
        var directory = Path.Combine(_root.FullName, "shared");
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);

        var server = new TailnetServer(Options(directory));

        File.GetUnixFileMode(Path.Combine(directory, "node.key")).Should().Be(OwnerReadWrite);
        File.GetUnixFileMode(directory).Should().HaveFlag(UnixFileMode.GroupRead);
        server.PublicKey.IsEmpty.Should().BeFalse();
    }

    [Fact]
    public void KeyFileWrittenByWg_IsUsed()
    {
        var key = WireGuardKey.Generate();
        File.WriteAllText(Path.Combine(_root.FullName, "node.key"), "  " + key + "\r\n");
        File.SetUnixFileMode(Path.Combine(_root.FullName, "node.key"), OwnerReadWrite);

        new TailnetServer(Options(_root.FullName)).PublicKey.Should().Be(key.PublicKey);
    }

    [Theory]
    [InlineData("not a key\n")]
    [InlineData("")]
    [InlineData("AAECAwQFBgcICQoLDA0ODw==\n")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")]
    public void CorruptKeyFile_FailsNamingTheFile_AndIsLeftAlone(string content)
    {
        var path = Path.Combine(_root.FullName, "node.key");
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, OwnerReadWrite);

        var act = () => new TailnetServer(Options(_root.FullName));

        act.Should().Throw<InvalidDataException>().WithMessage($"*'{path}' is corrupt*delete it to generate a new key*");
        File.ReadAllText(path).Should().Be(content);
    }

    [Fact]
    public void OversizedKeyFile_IsCorrupt()
    {
        var path = Path.Combine(_root.FullName, "node.key");
        File.WriteAllText(path, WireGuardKey.Generate() + new string(' ', 4096) + "\n");
        File.SetUnixFileMode(path, OwnerReadWrite);

        var act = () => new TailnetServer(Options(_root.FullName));
        act.Should().Throw<InvalidDataException>().WithMessage($"*'{path}'*");
    }

    [Fact]
    public void GroupReadableKeyFile_IsTightened_WithAWarning()
    {
        var key = WireGuardKey.Generate();
        var path = Path.Combine(_root.FullName, "node.key");
        File.WriteAllText(path, key + "\n");
        File.SetUnixFileMode(path, OwnerReadWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using var logs = new ListLoggerFactory();

        var server = new TailnetServer(Options(_root.FullName, logs));

        server.PublicKey.Should().Be(key.PublicKey);
        File.GetUnixFileMode(path).Should().Be(OwnerReadWrite);
        logs.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning && e.EventId == 21)
            .Which.Message.Should().Contain(path).And.Contain("644");
    }

    [Fact]
    public void BothPrivateKeyAndStateDirectory_OrNeither_AreRejected_WithoutTouchingTheDisk()
    {
        var directory = Path.Combine(_root.FullName, "never-created");
        var both = Options(directory);
        both.PrivateKey = WireGuardKey.Generate();
        FluentActions.Invoking(() => new TailnetServer(both)).Should().Throw<ArgumentException>()
            .WithMessage("*either TailnetServerOptions.PrivateKey or TailnetServerOptions.StateDirectory, not both*");

        var neither = new TailnetServerOptions { Addresses = { IPNetwork.Parse("100.64.0.1/32") } };
        FluentActions.Invoking(() => new TailnetServer(neither)).Should().Throw<ArgumentException>()
            .WithMessage("*PrivateKey or TailnetServerOptions.StateDirectory is required*");

        var empty = Options(" ");
        FluentActions.Invoking(() => new TailnetServer(empty)).Should().Throw<ArgumentException>().WithMessage("*StateDirectory is empty*");

        // Other invalid settings are reported before any file is created.
        var noAddress = Options(directory);
        noAddress.Addresses.Clear();
        FluentActions.Invoking(() => new TailnetServer(noAddress)).Should().Throw<ArgumentException>().WithMessage("*Addresses*");
        Directory.Exists(directory).Should().BeFalse();
    }

    [Fact]
    public void StateDirectoryThatIsAFile_FailsWithAnIOException()
    {
        var notADirectory = Path.Combine(_root.FullName, "file");
        File.WriteAllText(notADirectory, "x");

        FluentActions.Invoking(() => new TailnetServer(Options(notADirectory))).Should().Throw<IOException>();
    }

    /// <summary>Collects log entries so tests can check warnings and their event ids.</summary>
    private sealed class ListLoggerFactory : ILoggerFactory
    {
        public List<(LogLevel Level, int EventId, string Message)> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => new ListLogger(this);

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public void Dispose()
        {
        }

        private sealed class ListLogger(ListLoggerFactory owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner.Entries)
                {
                    owner.Entries.Add((logLevel, eventId.Id, formatter(state, exception)));
                }
            }
        }
    }
}
