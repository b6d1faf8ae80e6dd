using Microsoft.Extensions.Logging.Abstractions;
using TsNet.Configuration;
using TsNet.Control.State;

namespace TsNet.Tests.Control.State;

/// <summary>Machine and node key persistence in the state directory.</summary>
public sealed class ControlStateStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tsnet-ctlstate-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private string StatePath => Path.Combine(_directory, ControlStateStore.FileName);

    [Fact]
    public void FirstStart_CreatesKeys_OwnerOnly_NextStartReadsTheSame()
    {
        var first = ControlStateStore.LoadOrCreate(_directory, NullLogger.Instance);
        var second = ControlStateStore.LoadOrCreate(_directory, NullLogger.Instance);

        first.MachineKey.IsEmpty.Should().BeFalse();
        first.NodeKey.IsEmpty.Should().BeFalse();
        first.MachineKey.Should().NotBe(first.NodeKey);
        second.Should().BeEquivalentTo(first);
        first.LoggedIn.Should().BeFalse();
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(StatePath).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.ReadAllText(StatePath).Should().Contain("\"MachineKey\": \"privkey:").And.Contain("\"NodeKey\": \"privkey:");
    }

    [Fact]
    public void ExistingNodeKeyFile_IsAdopted()
    {
        var nodeKey = NodeKeyStore.LoadOrCreate(_directory, NullLogger.Instance);

        var state = ControlStateStore.LoadOrCreate(_directory, NullLogger.Instance);

        state.NodeKey.Should().Be(nodeKey);
    }

    [Fact]
    public void Save_LoginAndRotation_SurviveARestart()
    {
        var state = ControlStateStore.LoadOrCreate(_directory, NullLogger.Instance);
        var rotated = state.WithNewNodeKey() with { LoggedIn = true, ControlUrl = "http://127.0.0.1:9911" };

        ControlStateStore.Save(_directory, rotated);
        ControlStateStore.TryLoad(_directory, out var loaded).Should().BeTrue();

        loaded.Should().BeEquivalentTo(rotated);
        loaded.OldNodeKey.Should().Be(state.NodeKey);
        loaded.NodeKey.Should().NotBe(state.NodeKey);
        loaded.MachineKey.Should().Be(state.MachineKey);
    }

    [Fact]
    public void LoggedOut_DropsNodeKeyAndLogin_KeepsMachine()
    {
        var state = ControlStateStore.LoadOrCreate(_directory, NullLogger.Instance) with { LoggedIn = true };

        var loggedOut = state.LoggedOut();

        loggedOut.LoggedIn.Should().BeFalse();
        loggedOut.NodeKey.Should().NotBe(state.NodeKey);
        loggedOut.MachineKey.Should().Be(state.MachineKey);
        loggedOut.OldNodeKey.Should().BeNull();
    }

    [Fact]
    public void NoFile_TryLoadIsFalse()
    {
        ControlStateStore.TryLoad(_directory, out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"Format":2,"MachineKey":"privkey:4040404040404040404040404040404040404040404040404040404040404040","NodeKey":"privkey:4141414141414141414141414141414141414141414141414141414141414141"}""")]
    [InlineData("""{"Format":1,"MachineKey":"privkey:4040404040404040404040404040404040404040404040404040404040404040"}""")]
    [InlineData("""{"Format":1,"MachineKey":"nodekey:4040404040404040404040404040404040404040404040404040404040404040","NodeKey":"privkey:4141414141414141414141414141414141414141414141414141414141414141"}""")]
    [InlineData("""{"Format":1,"MachineKey":"privkey:0000000000000000000000000000000000000000000000000000000000000000","NodeKey":"privkey:4141414141414141414141414141414141414141414141414141414141414141"}""")]
    public void CorruptFile_IsACleanError_AndIsNotReplaced(string content)
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllText(StatePath, content);

        var load = () => ControlStateStore.LoadOrCreate(_directory, NullLogger.Instance);

        load.Should().Throw<InvalidDataException>().WithMessage("*control state file*");
        File.ReadAllText(StatePath).Should().Be(content);
    }

    [Fact]
    public void ValidHandWrittenFile_Loads()
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllText(StatePath, """{"Format":1,"MachineKey":"privkey:40ab1b58e9076c7a4d9d07291f5edf9d1aa017eb949624ba683317f48a640369","NodeKey":"privkey:4141414141414141414141414141414141414141414141414141414141414141","LoggedIn":true,"Extra":1}""");

        var state = ControlStateStore.LoadOrCreate(_directory, NullLogger.Instance);

        Convert.ToHexStringLower(state.MachineKey.PublicKey.Bytes).Should().Be("50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765");
        state.LoggedIn.Should().BeTrue();
    }
}
