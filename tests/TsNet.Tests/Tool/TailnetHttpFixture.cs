using Microsoft.Extensions.Logging;
using TsNet.Tests.Facade;
using TsNet.Tool.Http;
using TsNet.Tool.Logging;

namespace TsNet.Tests.Tool;

/// <summary>
/// Two in-process nodes; node A runs the tool's HTTP server (<see cref="TailnetHttpService"/>) on a tailnet port that
/// is free on the host too, serving a temporary www directory with a sibling file outside it. Shared by the tests of
/// one class; what the server logs is kept in <see cref="Log"/>.
/// </summary>
public sealed class TailnetHttpFixture : IAsyncLifetime
{
    private readonly StringWriter _logText = new();
    private readonly CancellationTokenSource _bound = new(TimeSpan.FromSeconds(120));
    private TextWriterLoggerFactory? _loggerFactory;
    private TailnetHttpService? _service;

    public string Root { get; } = Directory.CreateTempSubdirectory("tsnet-http-test-").FullName;

    public string Www => Path.Combine(Root, "www");

    public TailnetServer A { get; private set; } = null!;

    public TailnetServer B { get; private set; } = null!;

    public int Port { get; } = TsNet.Tests.AspNetCore.TailnetTestApp.PortFreeOnHost();

    public Uri BaseUri => new($"http://100.64.0.1:{Port}");

    public string Log
    {
        get
        {
            lock (_logText)
            {
                return _logText.ToString();
            }
        }
    }

    public CancellationToken Token => _bound.Token;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Www, "sub"));
        await File.WriteAllTextAsync(Path.Combine(Www, "hello.txt"), "hello");
        await File.WriteAllTextAsync(Path.Combine(Www, "sub", "a b.bin"), "nested");
        await File.WriteAllTextAsync(Path.Combine(Root, "secret.txt"), "secret");
        (A, B) = await TcpFacadeTests.StartPairAsync(_bound.Token);
        _loggerFactory = new TextWriterLoggerFactory(TextWriter.Synchronized(_logText), LogLevel.Information);
        _service = await TailnetHttpService.StartAsync(A, Port, Www, _loggerFactory, verbose: false, _bound.Token);
    }

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        await A.DisposeAsync();
        await B.DisposeAsync();
        _loggerFactory?.Dispose();
        _bound.Dispose();
        Directory.Delete(Root, recursive: true);
    }

    /// <summary>Sends <paramref name="request"/> as raw bytes on a fresh tailnet connection from B; returns everything until the server closes.</summary>
    public async Task<string> ExchangeRawAsync(string request)
    {
        await using var connection = await B.ConnectTcpAsync($"100.64.0.1:{Port}", Token);
        await connection.WriteAsync(System.Text.Encoding.Latin1.GetBytes(request), Token);
        var received = new MemoryStream();
        await connection.CopyToAsync(received, Token);
        return System.Text.Encoding.Latin1.GetString(received.ToArray());
    }
}
