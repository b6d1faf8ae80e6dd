using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace TsNet.Tool.Hosting;

/// <summary>
/// What Kestrel runs per request in <see cref="ToolKestrel"/>: an <see cref="HttpContext"/> over the connection's
/// features, handed to one <see cref="RequestDelegate"/>. Kestrel itself answers 500 (or aborts) and logs when the
/// delegate throws.
/// </summary>
internal sealed class ToolHttpApplication(RequestDelegate application) : IHttpApplication<HttpContext>
{
    /// <inheritdoc/>
    public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

    /// <inheritdoc/>
    public Task ProcessRequestAsync(HttpContext context) => application(context);

    /// <inheritdoc/>
    public void DisposeContext(HttpContext context, Exception? exception)
    {
    }
}
