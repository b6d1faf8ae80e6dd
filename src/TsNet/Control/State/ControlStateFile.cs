using System.Text.Json.Serialization;

namespace TsNet.Control.State;

/// <summary>The state file's JSON: keys in Tailscale's <c>privkey:</c> text form, a format number for later changes.</summary>
internal sealed record ControlStateFile
{
    /// <summary>This format.</summary>
    public const int CurrentFormat = 1;

    /// <summary>Format number; a file of a newer format is refused rather than half-read.</summary>
    public int Format { get; init; }

    /// <summary><c>privkey:</c> hex.</summary>
    public string? MachineKey { get; init; }

    /// <summary><c>privkey:</c> hex.</summary>
    public string? NodeKey { get; init; }

    /// <summary><c>privkey:</c> hex, or null.</summary>
    public string? OldNodeKey { get; init; }

    /// <summary>Control URL, or null.</summary>
    public string? ControlUrl { get; init; }

    /// <summary>Login completed.</summary>
    public bool LoggedIn { get; init; }
}

/// <summary>Source-generated JSON for <see cref="ControlStateFile"/>; metadata only (written once per login, no fast path needed).</summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ControlStateFile))]
internal sealed partial class ControlStateJsonContext : JsonSerializerContext;
