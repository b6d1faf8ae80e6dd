using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using TsNet.Control.Transport;

namespace TsNet.Tests.Control.Transport;

/// <summary>How the fake server answers the upgrade.</summary>
internal enum FakeControlBehaviour
{
    /// <summary>101, Noise response, optional early payload, then HTTP/2 (bridged to Kestrel) over Noise.</summary>
    Normal,

    /// <summary>400 "missing next protocol" (what the test server answers without the Upgrade header).</summary>
    RefuseUpgrade,

    /// <summary>101 then EOF (what the Go test server does for a bad initiation).</summary>
    CloseAfterSwitching,

    /// <summary>101, then a type-3 error message.</summary>
    ErrorMessage,

    /// <summary>101 with a different Upgrade value.</summary>
    WrongUpgradeProtocol,
}

/// <summary>
/// An in-process ts2021 server for tests: takes the upgrade on loopback TCP (optionally TLS), runs the responder
/// side of the handshake with <see cref="TestNoiseResponder"/>, optionally sends the early payload, then bridges
/// the decrypted stream to a Kestrel HTTP/2 (h2c) listener that serves <c>/machine/register</c> and <c>/echo</c>.
/// </summary>
internal sealed class FakeControlServer : IAsyncDisposable
{
    public const string Challenge = "chalpub:9fd7ad6dcff4298dd3f96d5b1b2af910a0535b1488d7f8fabb349a982880b615";

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly List<ControlNoiseStream> _streams = [];
    private readonly FakeControlBehaviour _behaviour;
    private readonly bool _sendEarlyPayload;
    private readonly X509Certificate2? _certificate;
    private readonly WebApplication _backend;
    private readonly Task _acceptLoop;
    private readonly SemaphoreSlim _closed = new(0);
    private int _backendPort;
    private int _handshakes;

    private FakeControlServer(FakeControlBehaviour behaviour, bool sendEarlyPayload, X509Certificate2? certificate)
    {
        _behaviour = behaviour;
        _sendEarlyPayload = sendEarlyPayload;
        _certificate = certificate;
        ServerKey = MachinePrivateKey.Generate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        _backend = builder.Build();
        _backend.MapPost("/machine/register", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            string body = await reader.ReadToEndAsync();
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($"{{\"protocol\":\"{context.Request.Protocol}\",\"length\":{body.Length}}}");
        });
        _backend.MapGet("/big/{size:int}", async (HttpContext context, int size) =>
        {
            byte[] data = new byte[size];
            for (int i = 0; i < size; i++)
            {
                data[i] = (byte)i;
            }

            await context.Response.Body.WriteAsync(data);
        });
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The server's Noise static key (what <c>/key</c> would return).</summary>
    public MachinePrivateKey ServerKey { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Handshakes completed (one per Noise connection).</summary>
    public int Handshakes => Volatile.Read(ref _handshakes);

    /// <summary>The machine key of the last client that completed a handshake.</summary>
    public MachinePublicKey LastClient { get; private set; }

    /// <summary>The last upgrade request's Host header.</summary>
    public string? LastHost { get; private set; }

    public static async Task<FakeControlServer> StartAsync(FakeControlBehaviour behaviour = FakeControlBehaviour.Normal, bool sendEarlyPayload = false, X509Certificate2? certificate = null)
    {
        var server = new FakeControlServer(behaviour, sendEarlyPayload, certificate);
        await server._backend.StartAsync();
        server._backendPort = new Uri(server._backend.Urls.First()).Port;
        return server;
    }

    public ControlConnectionOptions Options(string? url = null, ushort version = 130) => new()
    {
        ServerUrl = new Uri(url ?? $"{(_certificate is null ? "http" : "https")}://127.0.0.1:{Port}"),
        MachineKey = MachinePrivateKey.Generate(),
        ControlKey = ServerKey.PublicKey,
        ProtocolVersion = version,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Waits (bounded by <paramref name="cancellationToken"/>) until a Noise connection has ended on the server side.</summary>
    public Task WaitForClosedNoiseConnectionAsync(CancellationToken cancellationToken) => _closed.WaitAsync(cancellationToken);

    /// <summary>Closes every Noise connection the server holds (the client must redial).</summary>
    public async Task DropConnectionsAsync()
    {
        ControlNoiseStream[] streams;
        lock (_streams)
        {
            streams = [.. _streams];
            _streams.Clear();
        }

        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await DropConnectionsAsync();
        try
        {
            await _acceptLoop;
        }
        catch (Exception)
        {
            // Stopping the listener ends the loop with an exception.
        }

        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }

        await Task.WhenAll(connections.Select(c => c.ContinueWith(_ => { }, TaskScheduler.Default)));
        await _backend.StopAsync();
        await _backend.DisposeAsync();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
            lock (_connections)
            {
                _connections.Add(Task.Run(() => ServeAsync(client)));
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        Stream transport = client.GetStream();
        try
        {
            if (_certificate is not null)
            {
                var tls = new SslStream(transport);
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
                transport = tls;
            }

            var reader = new PrefixReader(transport);
            string headers = await reader.ReadHeadersAsync(16 * 1024, _stop.Token);
            string[] lines = headers.Split("\r\n");
            LastHost = Header(lines, "Host");
            if (_behaviour == FakeControlBehaviour.RefuseUpgrade)
            {
                await WriteAsync(transport, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 21\r\nConnection: close\r\n\r\nmissing next protocol");
                return;
            }

            string upgrade = _behaviour == FakeControlBehaviour.WrongUpgradeProtocol ? "websocket" : ControlUpgrade.UpgradeProtocol;
            await WriteAsync(transport, $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: {upgrade}\r\nConnection: upgrade\r\n\r\n");
            if (_behaviour == FakeControlBehaviour.CloseAfterSwitching)
            {
                return;
            }

            if (_behaviour == FakeControlBehaviour.ErrorMessage)
            {
                await transport.WriteAsync(new byte[] { 0x03, 0x00, 0x1f }.Concat("wrong handshake initiation size"u8.ToArray()).ToArray());
                return;
            }

            byte[] initiation = Convert.FromBase64String(Header(lines, ControlUpgrade.HandshakeHeader) ?? string.Empty);
            ushort version = TestNoiseResponder.ParseInitiationHeader(initiation);
            var responder = new TestNoiseResponder(ControlNoise.Prologue(version), ServerKey.Bytes);
            if (!responder.TryReadInitiation(initiation.AsSpan(ControlNoise.InitiationHeaderSize)))
            {
                return;
            }

            await transport.WriteAsync(responder.WriteResponseMessage());
            LastClient = MachinePublicKey.FromBytes(responder.InitiatorStatic);
            Interlocked.Increment(ref _handshakes);
            var noise = new ControlNoiseStream(transport, responder.ServerKeys(version), reader.Remaining);
            lock (_streams)
            {
                _streams.Add(noise);
            }

            if (_sendEarlyPayload)
            {
                // As Go sends it: magic, length and JSON in three records.
                byte[] json = Encoding.ASCII.GetBytes($"{{\"nodeKeyChallenge\":\"{Challenge}\"}}");
                await noise.WriteAsync(ControlEarlyPayload.Magic.ToArray());
                await noise.WriteAsync(new byte[] { 0, 0, 0, (byte)json.Length });
                await noise.WriteAsync(json);
            }

            using var backend = new TcpClient { NoDelay = true };
            await backend.ConnectAsync(IPAddress.Loopback, _backendPort, _stop.Token);
            NetworkStream backendStream = backend.GetStream();
            using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            Task up = noise.CopyToAsync(backendStream, done.Token);
            Task down = backendStream.CopyToAsync(noise, done.Token);
            try
            {
                await Task.WhenAny(up, down);
                await done.CancelAsync();
                await noise.DisposeAsync();
            }
            finally
            {
                _closed.Release();
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
            // The client or the test closed the connection.
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            await transport.DisposeAsync();
            client.Dispose();
        }
    }

    private static string? Header(string[] lines, string name)
    {
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }

    private static Task WriteAsync(Stream stream, string text) => stream.WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask();
}
