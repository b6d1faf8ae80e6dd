namespace TsNet.Tool.Http;

/// <summary>A request the server will not process: answered with <see cref="StatusCode"/> and the connection closed.</summary>
internal sealed class HttpRequestRejectedException : Exception
{
    /// <summary>Creates the exception with the status to answer and a reason for the log.</summary>
    public HttpRequestRejectedException(int statusCode, string message)
        : base(message) => StatusCode = statusCode;

    /// <summary>Creates a 400 without a reason (for completeness).</summary>
    public HttpRequestRejectedException()
        : this(400, "bad request")
    {
    }

    /// <summary>Creates a 400 with a reason.</summary>
    public HttpRequestRejectedException(string message)
        : this(400, message)
    {
    }

    /// <summary>Creates a 400 with a reason and a cause.</summary>
    public HttpRequestRejectedException(string message, Exception innerException)
        : base(message, innerException) => StatusCode = 400;

    /// <summary>The HTTP status to answer with (400, 431, 501, 505, ...).</summary>
    public int StatusCode { get; }
}
