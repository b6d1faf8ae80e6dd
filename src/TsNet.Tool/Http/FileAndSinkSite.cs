using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TsNet.Tool.Http;

/// <summary>
/// What <c>tsnet up --http PORT --www DIR</c> serves, as an ASP.NET Core pipeline: <c>GET</c>/<c>HEAD /NAME</c>
/// serves <c>DIR/NAME</c> through the static file middleware (ranges, conditional requests, content types by
/// extension; any other name as <c>application/octet-stream</c>, so every file downloads); <c>PUT</c>/<c>POST
/// /sink</c> is the <see cref="SinkHandler"/>. A target leaving the directory is 400
/// (<see cref="RequestTargetGuard"/>), a missing file 404, another method 405 with <c>Allow</c>.
/// </summary>
internal static class FileAndSinkSite
{
    /// <summary>The site as one request delegate, serving files from <paramref name="files"/>.</summary>
    public static RequestDelegate Create(WwwFileProvider files, ILoggerFactory loggerFactory)
    {
        RequestDelegate missingOrNotARead = context =>
        {
            // The static files answered every GET/HEAD of an existing file; what reaches here is missing or not a read.
            if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return MethodNotAllowed(context, "GET, HEAD");
        };
        var staticFiles = new StaticFileMiddleware(missingOrNotARead, new NoWebRoot(), Options.Create(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
            ServeUnknownFileTypes = true,
            DefaultContentType = "application/octet-stream",
        }), loggerFactory);
        RequestDelegate site = context =>
        {
            if (!context.Request.Path.Equals(SinkHandler.Path, StringComparison.Ordinal))
            {
                return staticFiles.Invoke(context);
            }

            return HttpMethods.IsPut(context.Request.Method) || HttpMethods.IsPost(context.Request.Method)
                ? SinkHandler.HandleAsync(context)
                : MethodNotAllowed(context, "PUT, POST");
        };
        return context => RequestTargetGuard.InvokeAsync(context, site);
    }

    private static Task MethodNotAllowed(HttpContext context, string allow)
    {
        context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        context.Response.Headers.Allow = allow;
        return Task.CompletedTask;
    }

    private sealed class NoWebRoot : IWebHostEnvironment
    {
        public string WebRootPath { get; set; } = string.Empty;

        public IFileProvider WebRootFileProvider { get; set; } = new NullFileProvider();

        public string ApplicationName { get; set; } = "tsnet";

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();

        public string ContentRootPath { get; set; } = string.Empty;

        public string EnvironmentName { get; set; } = "Production";
    }
}
