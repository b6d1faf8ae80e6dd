using System.Net;

namespace TsNet.Control.Client;

/// <summary>The control server answered a Noise HTTP/2 request with an unexpected status.</summary>
internal sealed class ControlHttpException : IOException
{
    /// <summary>Creates the exception for <paramref name="path"/> answered with <paramref name="status"/> and <paramref name="body"/>.</summary>
    public ControlHttpException(string path, HttpStatusCode status, string body)
        : base($"control server answered {path} with HTTP {(int)status}: {body}")
    {
        Path = path;
        StatusCode = status;
        Body = body;
    }

    /// <summary>The request path.</summary>
    public string Path { get; }

    /// <summary>The HTTP status.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The start of the response body (the server's reason).</summary>
    public string Body { get; }

    /// <summary>
    /// The server does not know this node (any more): the Go test server answers a map poll of an unknown or deleted
    /// node key with 400 <c>node not found</c>, Headscale with 404/401; either way the node must register again.
    /// </summary>
    public bool NodeUnknown => StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound;
}
