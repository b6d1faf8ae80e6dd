using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TsNet.Control.Protocol;
using TsNet.Derp;
using TsNet.WireGuard.Crypto;

namespace TsNet.Tests.Derp;

/// <summary>
/// A minimal in-process DERP server (derp.md §7) on 127.0.0.1 with TLS and a self-signed certificate for
/// <see cref="HostName"/>: upgrade, ServerKey, ClientInfo (opened and recorded), ServerInfo, then SendPacket routing,
/// Ping → Pong and NotePreferred recording. Tests inject frames and drop connections to drive the client.
/// </summary>
internal sealed class DerpTestServer : IAsyncDisposable
{
    public const string HostName = "derp.unit.test";

    private readonly TcpListener _listener;
    private readonly X509Certificate2 _certificate;
    private readonly byte[] _privateKey = new byte[32];
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, Session> _sessions = new();
    private readonly ConcurrentBag<Task> _tasks = [];
    private readonly Task _accept;
    private int _handshakes;

    public DerpTestServer()
    {
        X25519.GeneratePrivateKey(_privateKey);
        PublicKey = new byte[32];
        X25519.DerivePublicKey(_privateKey, PublicKey);
        _certificate = MakeCertificate();
        CertificateSha256 = Convert.ToHexStringLower(SHA256.HashData(_certificate.RawData));
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = AcceptLoopAsync();
    }

    public int Port { get; }

    public byte[] PublicKey { get; }

    public string CertificateSha256 { get; }

    /// <summary>Completed DERP handshakes (a reconnect counts again).</summary>
    public int Handshakes => Volatile.Read(ref _handshakes);

    /// <summary>SNI names clients sent.</summary>
    public ConcurrentQueue<string> SniNames { get; } = new();

    /// <summary>ALPN protocols negotiated.</summary>
    public ConcurrentQueue<string> NegotiatedAlpn { get; } = new();

    /// <summary>HTTP request heads received.</summary>
    public ConcurrentQueue<string> RequestHeads { get; } = new();

    /// <summary>ClientInfo JSON texts received.</summary>
    public ConcurrentQueue<string> ClientInfos { get; } = new();

    /// <summary>Pong payloads received (hex).</summary>
    public ConcurrentQueue<string> Pongs { get; } = new();

    /// <summary>The last NotePreferred byte per client key (hex).</summary>
    public ConcurrentDictionary<string, byte> Preferred { get; } = new();

    /// <summary>Packets that arrived for a key nobody holds.</summary>
    public int UnroutedPackets;

    /// <summary>When set, SendPacket frames are only counted in <see cref="SunkPackets"/> (no routing, no allocation).</summary>
    public volatile bool Sink;

    /// <summary>SendPacket frames counted while <see cref="Sink"/> was set.</summary>
    public int SunkPackets;

    /// <summary>True while a client with this key is connected.</summary>
    public bool IsConnected(ReadOnlySpan<byte> clientKey) => _sessions.ContainsKey(Convert.ToHexStringLower(clientKey));

    /// <summary>A DERP node for this server (IPv4 literal, IPv6 "none", InsecureForTests unless a cert name is given).</summary>
    public DERPNode Node(int regionId, string? certName = null, bool insecure = true) => new()
    {
        Name = regionId + "a",
        RegionID = regionId,
        HostName = HostName,
        IPv4 = "127.0.0.1",
        IPv6 = "none",
        DERPPort = Port,
        CertName = certName,
        InsecureForTests = insecure,
    };

    /// <summary>A one-region map.</summary>
    public DERPMap Map(int regionId = 1) => MapOf((regionId, this));

    public static DERPMap MapOf(params (int RegionId, DerpTestServer Server)[] regions) => new()
    {
        Regions = regions.ToDictionary(
            r => r.RegionId,
            r => (DERPRegion?)new DERPRegion { RegionID = r.RegionId, RegionCode = "r" + r.RegionId, Nodes = [r.Server.Node(r.RegionId)] }),
    };

    /// <summary>Writes a raw frame to the client with that key.</summary>
    public async Task SendFrameAsync(ReadOnlyMemory<byte> clientKey, byte[] frame)
    {
        if (!_sessions.TryGetValue(Convert.ToHexStringLower(clientKey.Span), out var session))
        {
            throw new InvalidOperationException("no such client");
        }

        await session.WriteAsync(frame, _stop.Token);
    }

    /// <summary>Writes <paramref name="frames"/> (whole frames) to the client <paramref name="repeats"/> times.</summary>
    public async Task BlastAsync(ReadOnlyMemory<byte> clientKey, byte[] frames, int repeats)
    {
        if (!_sessions.TryGetValue(Convert.ToHexStringLower(clientKey.Span), out var session))
        {
            throw new InvalidOperationException("no such client");
        }

        for (var i = 0; i < repeats; i++)
        {
            await session.WriteAsync(frames, _stop.Token);
        }
    }

    /// <summary>Closes every client connection (the clients should reconnect).</summary>
    public void DropAll()
    {
        foreach (var session in _sessions.Values)
        {
            session.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        DropAll();
        try
        {
            await _accept;
            await Task.WhenAll(_tasks);
        }
        catch (Exception)
        {
            // Stopped.
        }

        _certificate.Dispose();
        _stop.Dispose();
    }

    private static X509Certificate2 MakeCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + HostName, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(HostName);
        request.CertificateExtensions.Add(san.Build());
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), null);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            _tasks.Add(ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        Session? session = null;
        try
        {
            await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
            await tls.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions
                {
                    ServerCertificate = _certificate,
                    ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                },
                _stop.Token);
            SniNames.Enqueue(tls.TargetHostName);
            NegotiatedAlpn.Enqueue(tls.NegotiatedApplicationProtocol.ToString());
            var reader = new DerpFrameReader(tls);
            RequestHeads.Enqueue(await ReadRequestHeadAsync(tls));
            await tls.WriteAsync(Encoding.ASCII.GetBytes(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\nDerp-Version: 2\r\nDerp-Public-Key: "
                + Convert.ToHexStringLower(PublicKey) + "\r\n\r\n"), _stop.Token);
            await tls.WriteAsync((byte[])[0x01, 0, 0, 0, 40, .. DerpProtocol.Magic, .. PublicKey], _stop.Token);
            await tls.FlushAsync(_stop.Token);

            var header = await reader.ReadHeaderAsync(_stop.Token);
            if (header.Type != DerpFrameType.ClientInfo || header.Length < 72)
            {
                return;
            }

            var info = new byte[header.Length];
            await reader.ReadPayloadAsync(info, _stop.Token);
            var clientKey = info[..32];
            var shared = new byte[32];
            NaClBox.TryPrecompute(_privateKey, clientKey, shared);
            var json = new byte[info.Length - 56 - 16];
            if (!NaClBox.Open(shared, info.AsSpan(32, 24), info.AsSpan(56), json))
            {
                return;
            }

            ClientInfos.Enqueue(Encoding.UTF8.GetString(json));
            session = new Session(tls, clientKey);
            var keyHex = Convert.ToHexStringLower(clientKey);
            if (_sessions.TryRemove(keyHex, out var previous))
            {
                previous.Close();
            }

            _sessions[keyHex] = session;

            var serverInfoJson = """{"version":2}"""u8.ToArray();
            var nonce = RandomNumberGenerator.GetBytes(24);
            var box = new byte[serverInfoJson.Length + 16];
            NaClBox.Seal(shared, nonce, serverInfoJson, box);
            var serverInfo = new byte[5 + 24 + box.Length];
            DerpFrameHeader.Write(serverInfo, DerpFrameType.ServerInfo, 24 + box.Length);
            nonce.CopyTo(serverInfo, 5);
            box.CopyTo(serverInfo, 29);
            await session.WriteAsync(serverInfo, _stop.Token);
            Interlocked.Increment(ref _handshakes);
            await ServeFramesAsync(reader, session, keyHex);
        }
        catch (Exception)
        {
            // A client went away or the server stopped.
        }
        finally
        {
            if (session is not null)
            {
                _sessions.TryRemove(new KeyValuePair<string, Session>(Convert.ToHexStringLower(session.Key), session));
                session.Close();
            }
        }
    }

    private async Task ServeFramesAsync(DerpFrameReader reader, Session session, string keyHex)
    {
        var payload = new byte[DerpProtocol.KeySize + DerpProtocol.MaxPacketSize];
        while (true)
        {
            var header = await reader.ReadHeaderAsync(_stop.Token);
            if (header.Length > payload.Length)
            {
                return;
            }

            var body = payload.AsMemory(0, (int)header.Length);
            await reader.ReadPayloadAsync(body, _stop.Token);
            switch (header.Type)
            {
                case DerpFrameType.SendPacket when Sink:
                    Interlocked.Increment(ref SunkPackets);
                    break;
                case DerpFrameType.SendPacket when header.Length >= 32:
                    if (_sessions.TryGetValue(Convert.ToHexStringLower(body.Span[..32]), out var destination))
                    {
                        var frame = new byte[5 + header.Length];
                        DerpFrameHeader.Write(frame, DerpFrameType.RecvPacket, (int)header.Length);
                        session.Key.CopyTo(frame, 5);
                        body.Span[32..].CopyTo(frame.AsSpan(37));
                        await destination.WriteAsync(frame, _stop.Token);
                    }
                    else
                    {
                        Interlocked.Increment(ref UnroutedPackets);
                    }

                    break;
                case DerpFrameType.Ping when header.Length >= 8:
                    await session.WriteAsync((byte[])[0x13, 0, 0, 0, 8, .. body.Span[..8]], _stop.Token);
                    break;
                case DerpFrameType.Pong:
                    Pongs.Enqueue(Convert.ToHexStringLower(body.Span));
                    break;
                case DerpFrameType.NotePreferred when header.Length == 1:
                    Preferred[keyHex] = body.Span[0];
                    break;
            }
        }
    }

    private static async Task<string> ReadRequestHeadAsync(Stream stream)
    {
        // Byte by byte: nothing after the head may be consumed (the client sends no frame before the ServerKey).
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 8192)
        {
            if (await stream.ReadAsync(one) == 0)
            {
                throw new EndOfStreamException();
            }

            head.Add(one[0]);
            if (head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n')
            {
                return Encoding.ASCII.GetString([.. head]);
            }
        }

        throw new InvalidDataException("request head too long");
    }

    private sealed class Session(SslStream stream, byte[] key)
    {
        private readonly SemaphoreSlim _writeLock = new(1, 1);

        public byte[] Key { get; } = key;

        public async Task WriteAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
        {
            await _writeLock.WaitAsync(cancellationToken);
            try
            {
                await stream.WriteAsync(frame, cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }
            finally
            {
                _writeLock.Release();
            }
        }

        public void Close()
        {
            try
            {
                stream.Dispose();
            }
            catch (Exception)
            {
                // Already closed.
            }
        }
    }
}
