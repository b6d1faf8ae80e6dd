using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace TsNet.Tests.AspNetCore;

/// <summary>The minimal app the Kestrel-over-tailnet tests serve: who is calling, a body digest, generated data, an abort.</summary>
internal static class TailnetTestApp
{
    /// <summary>Builds the app on a full <c>WebApplication</c> builder (socket transport registered too) without starting it.</summary>
    public static WebApplication Build(Action<WebApplicationBuilder> useTailnet, WarningRecorder? warnings = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        if (warnings is not null)
        {
            builder.Logging.AddProvider(warnings);
        }

        useTailnet(builder);
        var app = builder.Build();

        app.MapGet("/", (HttpContext context) =>
            $"hello {context.Connection.RemoteIpAddress}:{context.Connection.RemotePort} on {context.Connection.LocalIpAddress}:{context.Connection.LocalPort} connection {context.Connection.Id}");

        app.MapPost("/sha256", async (HttpRequest request) =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                total += read;
            }

            return string.Create(CultureInfo.InvariantCulture, $"{total} {Convert.ToHexStringLower(hash.GetHashAndReset())}");
        });

        app.MapGet("/data/{size:int}/{seed:int}", async (int size, int seed, HttpResponse response) =>
        {
            response.ContentLength = size;
            await response.Body.WriteAsync(Data(size, seed), response.HttpContext.RequestAborted);
        });

        app.MapGet("/abort", (HttpContext context) => context.Abort());
        return app;
    }

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] Data(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>A port no host socket listens on right now: the tailnet app takes it, so a host listener on it would be ours.</summary>
    public static int PortFreeOnHost()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Any, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
