using System.Text.Json;
using Microsoft.Extensions.Logging;
using TsNet.Configuration;
using TsNet.Control.Protocol;

namespace TsNet.Control.State;

/// <summary>
/// Keeps <see cref="ControlState"/> in <c>&lt;state directory&gt;/control.json</c>, owner-only (0600, written like
/// <c>node.key</c> by <see cref="NodeKeyStore.WritePrivateFile"/>). A first start makes a machine key and takes
/// the node key from <c>node.key</c> when one exists (the node keeps its public key), else makes one.
/// </summary>
internal static partial class ControlStateStore
{
    /// <summary>The state file's name inside the state directory.</summary>
    public const string FileName = "control.json";

    // A state file is a few hundred bytes; a large file is not one and is not read into memory.
    private const long MaxFileBytes = 64 * 1024;

    /// <summary>Reads the state from <paramref name="directory"/>, or creates and writes it first.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a state file this version can read.</exception>
    /// <exception cref="IOException">The directory or file cannot be created or read.</exception>
    public static ControlState LoadOrCreate(string directory, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(logger);
        if (TryLoad(directory, out var state))
        {
            return state;
        }

        var nodeKey = File.Exists(Path.Combine(directory, NodeKeyStore.KeyFileName))
            ? NodeKeyStore.LoadOrCreate(directory, logger)
            : WireGuardKey.Generate();
        state = new ControlState { MachineKey = WireGuardKey.Generate(), NodeKey = nodeKey };
        Save(directory, state);
        LogStateCreated(logger, Path.Combine(directory, FileName), ControlKeyText.Format(ControlKeyText.MachinePublicPrefix, state.MachineKey.PublicKey));
        return state;
    }

    /// <summary>Reads the state; false when there is no state file.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a state file this version can read.</exception>
    public static bool TryLoad(string directory, out ControlState state)
    {
        state = null!;
        var path = Path.Combine(directory, FileName);
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            return false;
        }

        if (file.Length > MaxFileBytes)
        {
            throw Corrupt(path, "it is too large");
        }

        ControlStateFile? content;
        try
        {
            content = JsonSerializer.Deserialize(File.ReadAllBytes(path), ControlStateJsonContext.Default.ControlStateFile);
        }
        catch (JsonException e)
        {
            throw Corrupt(path, "it is not valid JSON (" + e.Message + ")");
        }

        if (content is null || content.Format != ControlStateFile.CurrentFormat)
        {
            throw Corrupt(path, $"its format is {content?.Format} (this version reads {ControlStateFile.CurrentFormat})");
        }

        if (!TryParsePrivate(content.MachineKey, out var machineKey) || !TryParsePrivate(content.NodeKey, out var nodeKey))
        {
            throw Corrupt(path, "it lacks a machine or node key");
        }

        WireGuardKey? oldNodeKey = null;
        if (content.OldNodeKey is not null)
        {
            oldNodeKey = TryParsePrivate(content.OldNodeKey, out var old) ? old : throw Corrupt(path, "its old node key is bad");
        }

        state = new ControlState
        {
            MachineKey = machineKey,
            NodeKey = nodeKey,
            OldNodeKey = oldNodeKey,
            ControlUrl = content.ControlUrl,
            LoggedIn = content.LoggedIn,
        };
        return true;
    }

    /// <summary>Writes <paramref name="state"/> (replacing the file atomically).</summary>
    public static void Save(string directory, ControlState state)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(state);
        var content = new ControlStateFile
        {
            Format = ControlStateFile.CurrentFormat,
            MachineKey = ControlKeyText.Format(ControlKeyText.PrivatePrefix, state.MachineKey),
            NodeKey = ControlKeyText.Format(ControlKeyText.PrivatePrefix, state.NodeKey),
            OldNodeKey = state.OldNodeKey is { } old ? ControlKeyText.Format(ControlKeyText.PrivatePrefix, old) : null,
            ControlUrl = state.ControlUrl,
            LoggedIn = state.LoggedIn,
        };
        NodeKeyStore.WritePrivateFile(directory, FileName, JsonSerializer.SerializeToUtf8Bytes(content, ControlStateJsonContext.Default.ControlStateFile));
    }

    private static bool TryParsePrivate(string? text, out WireGuardKey key)
    {
        key = default;
        return text is not null && ControlKeyText.TryParse(ControlKeyText.PrivatePrefix, text, out key) && !key.IsEmpty;
    }

    private static InvalidDataException Corrupt(string path, string why) =>
        new($"The control state file '{path}' is unusable: {why}. Restore it, or delete it to register as a new node (a new auth key or login is then needed).");

    [LoggerMessage(EventId = 7201, Level = LogLevel.Information, Message = "Created control state in {Path} (machine key {MachineKey})")]
    private static partial void LogStateCreated(ILogger logger, string path, string machineKey);
}
