using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;

namespace TsNet.Benchmarks.Throughput;

/// <summary>
/// <c>TsNet.Benchmarks throughput ...</c>: runs one TsNet node configured from wg-quick-like arguments and moves TCP
/// bytes through it, printing the rate, so a script can put the Linux kernel (socat, curl) behind a stock
/// wireguard-go at the other end (see <c>tsnet-throughput.sh</c>).
/// <code>
/// throughput --private-key KEY --address 100.64.0.2/32 [--address fd7a:115c:a1e0::2/128] [--listen-port P] [--mtu 1280]
///            --peer PUBKEY [--endpoint 127.0.0.1:Q] --allowed-ips 100.64.0.1/32[,...]
///            --role sink|source|send|receive [--port P] [--connect HOST:PORT] [--seconds 10] [--bytes N] [--connections 1]
/// </code>
/// Roles: <c>sink</c> listens on <c>--port</c> and reads each connection to its end; <c>source</c> listens and sends
/// to each connection for <c>--seconds</c> (or <c>--bytes</c>), then FIN; <c>send</c>/<c>receive</c> dial
/// <c>--connect</c> and do the same as client. After <c>--connections</c> connections (default 1) it exits.
/// Output (stdout): <c>ready address=A[,A6] port=UDP publickey=KEY</c> once the node is up, <c>listening port=P</c>
/// for the server roles, then one line per connection:
/// <c>result role=R remote=EP bytes=N seconds=S gbit/s=G cpu-s=C</c> (C: this process's CPU seconds during the
/// transfer, all threads: on a shared machine CPU per byte is steadier than the rate). Exit codes: 0 done, 1 failure, 2 usage.
/// </summary>
internal static class ThroughputCommand
{
    private const int BufferSize = 256 * 1024;

    public static int Run(string[] args)
    {
        ThroughputOptions options;
        try
        {
            options = ThroughputOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine("throughput: " + e.Message);
            Console.Error.WriteLine(ThroughputOptions.Usage);
            return 2;
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });

        try
        {
            RunAsync(options, stop.Token).GetAwaiter().GetResult();
            return 0;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine("throughput: stopped");
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("throughput: " + e);
            return 1;
        }
    }

    private static async Task RunAsync(ThroughputOptions options, CancellationToken cancellationToken)
    {
        await using var node = new TailnetServer(options.ToServerOptions());
        await node.StartAsync(cancellationToken);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"ready address={string.Join(',', node.Addresses)} port={node.ListenPort} publickey={node.PublicKey}"));

        if (options.Role is ThroughputRole.Sink or ThroughputRole.Source)
        {
            await using var listener = await node.ListenTcpAsync(options.Port, cancellationToken);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"listening port={listener.LocalEndPoint.Port}"));
            for (var i = 0; i < options.Connections; i++)
            {
                var connection = await listener.AcceptAsync(cancellationToken) ?? throw new InvalidOperationException("listener closed");
                await using (connection)
                {
                    await ServeAsync(options, connection, cancellationToken);
                }
            }
        }
        else
        {
            for (var i = 0; i < options.Connections; i++)
            {
                await using var connection = await node.ConnectTcpAsync(options.Connect!, cancellationToken);
                await ServeAsync(options, connection, cancellationToken);
            }
        }
    }

    private static async Task ServeAsync(ThroughputOptions options, TailnetConnection connection, CancellationToken cancellationToken)
    {
        var remote = connection.RemoteEndPoint;
        var clock = Stopwatch.StartNew();
        var cpuBefore = Environment.CpuUsage.TotalTime;
        long bytes;
        if (options.Role is ThroughputRole.Sink or ThroughputRole.Receive)
        {
            bytes = await ReadToEndAsync(connection, cancellationToken);
        }
        else
        {
            bytes = await WriteAsync(connection, options, cancellationToken);
            await connection.ShutdownWriteAsync(cancellationToken);

            // Count until the peer has everything: it closes after our FIN.
            using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            drain.CancelAfter(TimeSpan.FromSeconds(30));
            await ReadToEndAsync(connection, drain.Token);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"result role={options.Role.ToString().ToLowerInvariant()} remote={remote} bytes={bytes} seconds={seconds:0.000} gbit/s={bytes * 8 / Math.Max(seconds, 1e-9) / 1e9:0.000} cpu-s={cpu:0.000}"));
    }

    private static async Task<long> ReadToEndAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[BufferSize];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
        }

        return total;
    }

    private static async Task<long> WriteAsync(Stream stream, ThroughputOptions options, CancellationToken cancellationToken)
    {
        var buffer = new byte[BufferSize];
        Random.Shared.NextBytes(buffer);
        var clock = Stopwatch.StartNew();
        long total = 0;
        while (options.Bytes is { } limit ? total < limit : clock.Elapsed < options.Duration)
        {
            var take = (int)Math.Min(buffer.Length, (options.Bytes ?? long.MaxValue) - total);
            await stream.WriteAsync(buffer.AsMemory(0, take), cancellationToken);
            total += take;
        }

        return total;
    }
}

/// <summary>What the throughput node does with its connections.</summary>
internal enum ThroughputRole
{
    /// <summary>Listen; read each connection to its end.</summary>
    Sink,

    /// <summary>Listen; send to each connection, then FIN.</summary>
    Source,

    /// <summary>Dial; send, then FIN.</summary>
    Send,

    /// <summary>Dial; read to the end.</summary>
    Receive,
}

/// <summary>Parsed command line of <see cref="ThroughputCommand"/>.</summary>
internal sealed class ThroughputOptions
{
    public const string Usage =
        "usage: throughput --private-key KEY --address CIDR [--address CIDR] [--listen-port P] [--mtu M]\n" +
        "                  --peer PUBKEY [--endpoint HOST:PORT] --allowed-ips CIDR[,CIDR]\n" +
        "                  --role sink|source|send|receive [--port P] [--connect HOST:PORT] [--seconds S] [--bytes N] [--connections C]";

    public WireGuardKey PrivateKey { get; private set; }

    public List<IPNetwork> Addresses { get; } = new();

    public int ListenPort { get; private set; }

    public int? Mtu { get; private set; }

    public WireGuardKey PeerPublicKey { get; private set; }

    public string? PeerEndpoint { get; private set; }

    public List<IPNetwork> AllowedIps { get; } = new();

    public ThroughputRole Role { get; private set; }

    public int Port { get; private set; } = 5201;

    public string? Connect { get; private set; }

    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(10);

    public long? Bytes { get; private set; }

    public int Connections { get; private set; } = 1;

    public static ThroughputOptions Parse(IReadOnlyList<string> args)
    {
        var options = new ThroughputOptions();
        bool haveKey = false, havePeer = false, haveRole = false;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            switch (name)
            {
                case "--private-key":
                    options.PrivateKey = WireGuardKey.Parse(Value());
                    haveKey = true;
                    break;
                case "--private-key-file":
                    options.PrivateKey = WireGuardKey.Parse(File.ReadAllText(Value()).Trim());
                    haveKey = true;
                    break;
                case "--address":
                    options.Addresses.AddRange(Value().Split(',').Select(IPNetwork.Parse));
                    break;
                case "--listen-port":
                    options.ListenPort = int.Parse(Value(), CultureInfo.InvariantCulture);
                    break;
                case "--mtu":
                    options.Mtu = int.Parse(Value(), CultureInfo.InvariantCulture);
                    break;
                case "--peer":
                    options.PeerPublicKey = WireGuardKey.Parse(Value());
                    havePeer = true;
                    break;
                case "--endpoint":
                    options.PeerEndpoint = Value();
                    break;
                case "--allowed-ips":
                    options.AllowedIps.AddRange(Value().Split(',').Select(IPNetwork.Parse));
                    break;
                case "--role":
                    options.Role = Enum.Parse<ThroughputRole>(Value(), ignoreCase: true);
                    haveRole = true;
                    break;
                case "--port":
                    options.Port = int.Parse(Value(), CultureInfo.InvariantCulture);
                    break;
                case "--connect":
                    options.Connect = Value();
                    break;
                case "--seconds":
                    options.Duration = TimeSpan.FromSeconds(double.Parse(Value(), CultureInfo.InvariantCulture));
                    break;
                case "--bytes":
                    options.Bytes = long.Parse(Value(), CultureInfo.InvariantCulture);
                    break;
                case "--connections":
                    options.Connections = int.Parse(Value(), CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"unknown argument {name}");
            }
        }

        if (!haveKey || !havePeer || !haveRole || options.Addresses.Count == 0 || options.AllowedIps.Count == 0)
        {
            throw new ArgumentException("--private-key, --address, --peer, --allowed-ips and --role are required");
        }

        if (options.Role is ThroughputRole.Send or ThroughputRole.Receive && options.Connect is null)
        {
            throw new ArgumentException($"--role {options.Role.ToString().ToLowerInvariant()} needs --connect HOST:PORT");
        }

        return options;
    }

    public TailnetServerOptions ToServerOptions()
    {
        var options = new TailnetServerOptions { PrivateKey = PrivateKey, ListenPort = ListenPort };
        if (Mtu is { } mtu)
        {
            options.Mtu = mtu;
        }

        foreach (var address in Addresses)
        {
            options.Addresses.Add(address);
        }

        var peer = new TailnetPeer { PublicKey = PeerPublicKey, Endpoint = PeerEndpoint };
        foreach (var allowed in AllowedIps)
        {
            peer.AllowedIps.Add(allowed);
        }

        options.Peers.Add(peer);
        return options;
    }
}
