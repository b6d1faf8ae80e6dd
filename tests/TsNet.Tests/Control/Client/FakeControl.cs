using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using TsNet.Control.Client;
using TsNet.Control.Protocol;
using TsNet.Control.Transport;

namespace TsNet.Tests.Control.Client;

/// <summary>
/// An in-process control "server" behind <see cref="IControlChannel"/>: it records every request, answers register
/// requests with queued JSON (authorized when none is queued), and hands each map poll a <see cref="FakeMapStream"/>
/// whose frames the test writes as JSON (decoded by the real <see cref="MapFrame"/> code, so bad bytes fail as they
/// would on the wire).
/// </summary>
internal sealed class FakeControl
{
    public const string Authorized = """{"User":{"ID":1,"DisplayName":"User 1"},"Login":{"ID":1,"LoginName":"user-1@fake-control.example.net"},"MachineAuthorized":true}""";

    private readonly Lock _lock = new();
    private readonly Queue<Func<RegisterRequest, CancellationToken, Task<string>>> _registerAnswers = [];
    private readonly Queue<Exception> _mapErrors = [];
    private readonly List<RegisterRequest> _registers = [];
    private readonly List<MapRequest> _maps = [];
    private readonly List<MapRequest> _lites = [];
    private readonly Channel<FakeMapStream> _streams = Channel.CreateUnbounded<FakeMapStream>();
    private int _connects;
    private int _disposedChannels;

    /// <summary>The key <c>/key</c> answers with; change it to simulate a restarted server.</summary>
    public MachinePublicKey ServerKey { get; set; } = MachinePrivateKey.Generate().PublicKey;

    /// <summary>Thrown by the next connects (null: connect works).</summary>
    public Exception? ConnectError { get; set; }

    public int Connects => Volatile.Read(ref _connects);

    public int DisposedChannels => Volatile.Read(ref _disposedChannels);

    public IReadOnlyList<RegisterRequest> Registers
    {
        get
        {
            lock (_lock)
            {
                return [.. _registers];
            }
        }
    }

    public IReadOnlyList<MapRequest> Maps
    {
        get
        {
            lock (_lock)
            {
                return [.. _maps];
            }
        }
    }

    public IReadOnlyList<MapRequest> Lites
    {
        get
        {
            lock (_lock)
            {
                return [.. _lites];
            }
        }
    }

    public ControlChannelConnector Connector => cancellationToken =>
    {
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _connects);
        if (ConnectError is { } error)
        {
            return Task.FromException<IControlChannel>(error);
        }

        return Task.FromResult<IControlChannel>(new FakeChannel(this, ServerKey));
    };

    /// <summary>Queues a register answer (JSON).</summary>
    public void AnswerRegister(string json) => AnswerRegister((_, _) => Task.FromResult(json));

    /// <summary>Queues a register answer computed from the request (may wait, like a follow-up long poll).</summary>
    public void AnswerRegister(Func<RegisterRequest, CancellationToken, Task<string>> answer)
    {
        lock (_lock)
        {
            _registerAnswers.Enqueue(answer);
        }
    }

    /// <summary>The next map poll fails with <paramref name="error"/> (for example HTTP 400 "node not found").</summary>
    public void FailNextMap(Exception error)
    {
        lock (_lock)
        {
            _mapErrors.Enqueue(error);
        }
    }

    /// <summary>The next map poll opened (bounded wait).</summary>
    public async Task<FakeMapStream> NextStreamAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await _streams.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"no map poll within {timeout.TotalSeconds:0} s ({Maps.Count} so far, {Registers.Count} registers)");
        }
    }

    /// <summary>A map poll was opened and not yet taken by <see cref="NextStreamAsync"/>.</summary>
    public bool HasUnclaimedStream => _streams.Reader.Count > 0;

    /// <summary>A full map as the Go test server sends it, for <paramref name="nodeKey"/> (text), with one peer.</summary>
    public static string FullMap(string nodeKey, string? keyExpiry = null) =>
        $$$$"""
        {"Node":{"ID":1,"StableID":"TESTCTRL00000001","Name":"cc.tail.test.","User":1,"Key":"{{{{nodeKey}}}}",
                 "KeyExpiry":"{{{{keyExpiry ?? "0001-01-01T00:00:00Z"}}}}","Machine":"mkey:{{{{new string('a', 64)}}}}",
                 "Addresses":["100.64.0.1/32","fd7a:115c:a1e0:ab12:4843:cd96:6240:1/128"],"MachineAuthorized":true},
         "DERPMap":{"Regions":{"1":{"RegionID":1,"RegionCode":"test","RegionName":"Test",
                    "Nodes":[{"Name":"1a","RegionID":1,"HostName":"derp.tail.test","IPv4":"127.0.0.1","DERPPort":3340,"InsecureForTests":true}]}}},
         "Domain":"tail.test","CollectServices":false,
         "PacketFilter":[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}],
         "DNSConfig":{"Domains":["tail.test"],"Proxied":true},
         "Peers":[{{{{TsNet.Tests.Control.Netmap.NetmapJson.Peer(2, 0x22, "peer.tail.test.", 2)}}}}],
         "UserProfiles":[{"ID":1,"LoginName":"user-1@fake-control.example.net","DisplayName":"User 1"},
                         {"ID":2,"LoginName":"user-2@fake-control.example.net","DisplayName":"User 2"}],
         "ControlTime":"2020-08-03T00:00:00Z"}
        """;

    private async Task<RegisterResponse> RegisterAsync(RegisterRequest request, CancellationToken cancellationToken)
    {
        Func<RegisterRequest, CancellationToken, Task<string>>? answer;
        lock (_lock)
        {
            _registers.Add(request);
            _registerAnswers.TryDequeue(out answer);
        }

        var json = answer is null ? Authorized : await answer(request, cancellationToken);
        return JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(json), ControlJsonContext.Default.RegisterResponse)!;
    }

    private Task<IMapStream> OpenMapAsync(MapRequest request)
    {
        Exception? error;
        lock (_lock)
        {
            _maps.Add(request);
            _mapErrors.TryDequeue(out error);
        }

        if (error is not null)
        {
            return Task.FromException<IMapStream>(error);
        }

        var stream = new FakeMapStream(request);
        _streams.Writer.TryWrite(stream);
        return Task.FromResult<IMapStream>(stream);
    }

    private void RecordLite(MapRequest request)
    {
        lock (_lock)
        {
            _lites.Add(request);
        }
    }

    private sealed class FakeChannel(FakeControl owner, MachinePublicKey serverKey) : IControlChannel
    {
        public MachinePublicKey ServerKey => serverKey;

        public Task<RegisterResponse> RegisterAsync(RegisterRequest request, CancellationToken cancellationToken) => owner.RegisterAsync(request, cancellationToken);

        public Task<IMapStream> OpenMapAsync(MapRequest request, CancellationToken cancellationToken) => owner.OpenMapAsync(request);

        public Task SendLiteUpdateAsync(MapRequest request, CancellationToken cancellationToken)
        {
            owner.RecordLite(request);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            Interlocked.Increment(ref owner._disposedChannels);
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>One map poll of <see cref="FakeControl"/>: the test writes its frames.</summary>
internal sealed class FakeMapStream(MapRequest request) : IMapStream
{
    private readonly Channel<object?> _frames = Channel.CreateUnbounded<object?>();
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MapRequest Request => request;

    /// <summary>Completes when the client disposed the stream.</summary>
    public Task Disposed => _disposed.Task;

    private int _reads;

    /// <summary>
    /// Frames the client has finished with: it processed them and asked for the next one (a read waiting counts the
    /// frames before it), so its timers reflect the last frame.
    /// </summary>
    public int FramesProcessed => Math.Max(0, Volatile.Read(ref _reads) - 1);

    public void Send(string json) => _frames.Writer.TryWrite(Encoding.UTF8.GetBytes(json));

    /// <summary>A frame payload as raw bytes (uncompressed JSON expected).</summary>
    public void SendRaw(byte[] payload) => _frames.Writer.TryWrite(payload);

    public void SendKeepAlive() => SendRaw(MapFrame.KeepAliveJson.ToArray());

    /// <summary>The server ends the stream cleanly.</summary>
    public void End() => _frames.Writer.TryWrite(null);

    public async ValueTask<MapResponse?> ReadAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        var next = await _frames.Reader.ReadAsync(cancellationToken);
        return next is byte[] payload ? MapFrame.Decode(payload, zstd: false) : null;
    }

    public ValueTask DisposeAsync()
    {
        _disposed.TrySetResult();
        return ValueTask.CompletedTask;
    }
}
