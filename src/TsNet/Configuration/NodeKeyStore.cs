using System.Text;
using Microsoft.Extensions.Logging;

namespace TsNet.Configuration;

/// <summary>
/// Keeps the node's private key in <c>&lt;state directory&gt;/node.key</c> as wg-style base64 plus a newline, readable
/// by the owner only: loaded when present, generated and written once otherwise.
/// </summary>
internal static partial class NodeKeyStore
{
    /// <summary>The key file's name inside the state directory.</summary>
    public const string KeyFileName = "node.key";

    /// <summary>A key file is 45 bytes; anything much larger is not one (and is not read into memory).</summary>
    private const long MaxKeyFileBytes = 1024;

    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Reads the key from <paramref name="directory"/>, or generates it and writes it there first.</summary>
    /// <exception cref="InvalidDataException">The key file exists but does not hold a key.</exception>
    /// <exception cref="IOException">The directory or file cannot be created or read.</exception>
    /// <exception cref="UnauthorizedAccessException">The process may not read or create the file.</exception>
    public static WireGuardKey LoadOrCreate(string directory, ILogger logger)
    {
        var path = Path.Combine(directory, KeyFileName);
        if (TryLoad(path, logger, out var key))
        {
            return key;
        }

        CreateDirectory(directory);
        var generated = WireGuardKey.Generate();
        if (TryCreate(directory, path, generated))
        {
            LogKeyCreated(logger, path, generated.PublicKey.ToString());
            return generated;
        }

        // Another process created the file between our look and our write: its key wins, so both agree.
        return TryLoad(path, logger, out key)
            ? key
            : throw new IOException($"The node key file '{path}' could not be created.");
    }

    private static bool TryLoad(string path, ILogger logger, out WireGuardKey key)
    {
        key = default;
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            return false;
        }

        if (!OperatingSystem.IsWindows() && (file.UnixFileMode & GroupOrOther) != 0)
        {
            // A readable private key is already exposed; tightening stops further exposure without breaking the node.
            LogKeyFileTightened(logger, path, Convert.ToString((int)file.UnixFileMode, 8));
            File.SetUnixFileMode(path, file.UnixFileMode & ~GroupOrOther);
        }

        if (file.Length > MaxKeyFileBytes
            || !WireGuardKey.TryParse(File.ReadAllText(path, Encoding.ASCII), out key)
            || key.IsEmpty)
        {
            throw new InvalidDataException(
                $"The node key file '{path}' is corrupt: it must hold one WireGuard private key in base64 (44 characters, as `wg genkey` prints). " +
                "Restore it, or delete it to generate a new key (the node's public key then changes and its peers must be told).");
        }

        return true;
    }

    /// <summary>
    /// Writes <paramref name="content"/> to <c>&lt;directory&gt;/&lt;fileName&gt;</c> (replacing it) through a private
    /// temporary file renamed into place, owner-only from the first byte on; creates the directory as the key file
    /// does. Other state files (the control client's) use this writer too.
    /// </summary>
    public static void WritePrivateFile(string directory, string fileName, ReadOnlySpan<byte> content)
    {
        CreateDirectory(directory);
        var temporary = WriteTemporary(directory, fileName, content);
        try
        {
            File.Move(temporary, Path.Combine(directory, fileName), overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static void CreateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            // Only a directory created here gets 0700; an existing one keeps the mode its owner chose.
            Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        }
    }

    /// <summary>Writes the key to a private temporary file and renames it into place; false when the file appeared meanwhile.</summary>
    private static bool TryCreate(string directory, string path, WireGuardKey key)
    {
        var temporary = WriteTemporary(directory, KeyFileName, Encoding.ASCII.GetBytes(key.ToString() + "\n"));
        try
        {
            try
            {
                File.Move(temporary, path, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(path))
            {
                return false;
            }
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static string WriteTemporary(string directory, string fileName, ReadOnlySpan<byte> content)
    {
        var temporary = Path.Combine(directory, $".{fileName}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            // Created with 0600 from the first byte on: never briefly readable by others, whatever the umask.
            options.UnixCreateMode = OwnerReadWrite;
        }

        try
        {
            using var stream = new FileStream(temporary, options);
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }

        return temporary;
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Generated a new node key in {Path} (public key {PublicKey})")]
    private static partial void LogKeyCreated(ILogger logger, string path, string publicKey);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Node key file {Path} was readable by group or others (mode {Mode}); tightened it to owner-only")]
    private static partial void LogKeyFileTightened(ILogger logger, string path, string mode);
}
