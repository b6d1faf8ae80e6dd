using System.Globalization;

namespace TsNet;

/// <summary>
/// A wg-quick configuration file could not be read: <see cref="LineNumber"/> and <see cref="Reason"/> say where and
/// what. The message reads <c>line 7: unknown key 'Foo' in [Peer]</c>, or <c>wg0.conf:7: ...</c> when the text came
/// from a file (<see cref="FileName"/>); problems of the file as a whole (e.g. no PrivateKey) have line number 0
/// and no line in the message.
/// </summary>
public sealed class WireGuardConfigException : FormatException
{
    /// <summary>Creates an exception without a location.</summary>
    public WireGuardConfigException()
        : this(0, "The WireGuard configuration is invalid.")
    {
    }

    /// <summary>Creates an exception without a location with <paramref name="message"/> as its reason.</summary>
    public WireGuardConfigException(string message)
        : this(0, message)
    {
    }

    /// <summary>Creates an exception without a location with <paramref name="message"/> as its reason and an inner exception.</summary>
    public WireGuardConfigException(string message, Exception innerException)
        : this(0, message, null, innerException)
    {
    }

    /// <summary>Creates an exception about line <paramref name="lineNumber"/> (1-based; 0 = the file as a whole).</summary>
    /// <param name="lineNumber">The 1-based line the problem is on, or 0 when it is not about one line.</param>
    /// <param name="reason">What is wrong, without the location (e.g. <c>ListenPort '99999' is not a port (0-65535)</c>).</param>
    /// <param name="fileName">The file the text came from, or null.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public WireGuardConfigException(int lineNumber, string reason, string? fileName = null, Exception? innerException = null)
        : base(Location(fileName, lineNumber) + reason, innerException)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lineNumber);
        LineNumber = lineNumber;
        Reason = reason;
        FileName = fileName;
    }

    /// <summary>The 1-based line the problem is on; 0 when it is about the file as a whole (e.g. a missing PrivateKey).</summary>
    public int LineNumber { get; }

    /// <summary>What is wrong, without file name or line number (the message is the location followed by this).</summary>
    public string Reason { get; }

    /// <summary>The file the configuration was read from (<see cref="TailnetServerOptions.FromWireGuardConfigFile"/>), or null for text.</summary>
    public string? FileName { get; }

    /// <summary>The message prefix for a location: <c>line 7: </c>, <c>wg0.conf:7: </c>, <c>wg0.conf: </c> or nothing.</summary>
    internal static string Location(string? fileName, int lineNumber) => (fileName, lineNumber) switch
    {
        (null, > 0) => string.Create(CultureInfo.InvariantCulture, $"line {lineNumber}: "),
        (null, _) => string.Empty,
        (_, > 0) => string.Create(CultureInfo.InvariantCulture, $"{fileName}:{lineNumber}: "),
        _ => fileName + ": ",
    };
}
