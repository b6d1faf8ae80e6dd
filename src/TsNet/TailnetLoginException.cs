namespace TsNet;

/// <summary>
/// The coordination server refused the node (a bad or expired auth key, a node not allowed to register, ...).
/// <see cref="Exception.Message"/> is the server's own message.
/// </summary>
public sealed class TailnetLoginException : Exception
{
    /// <summary>Creates the exception with the server's message.</summary>
    public TailnetLoginException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the server's message and a cause.</summary>
    public TailnetLoginException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
