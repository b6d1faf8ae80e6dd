namespace TsNet.Tool.Cli;

/// <summary>The command line is wrong: the message says what, the command prints its usage and exits with 2.</summary>
internal sealed class UsageException : Exception
{
    /// <summary>Creates the exception with a message meant for the user.</summary>
    public UsageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception (for completeness; the tool always passes a message).</summary>
    public UsageException()
    {
    }

    /// <summary>Creates the exception with a cause.</summary>
    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
