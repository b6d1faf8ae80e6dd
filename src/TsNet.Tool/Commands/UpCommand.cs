using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TsNet.Tool.Cli;
using TsNet.Tool.Http;
using TsNet.Tool.Logging;
using TsNet.Tool.Services;

namespace TsNet.Tool.Commands;

/// <summary>
/// <c>tsnet up --config FILE [--http PORT --www DIR] [--echo PORT] [--udp-echo PORT]</c>: runs one node from a
/// wg-quick file, with optional services on the tailnet, until SIGINT/SIGTERM. Once up it prints exactly one line
/// on stdout, <c>ready address=A[,A6] port=UDP publickey=KEY</c>; logs go to stderr.
/// </summary>
internal sealed class UpCommand : ICommand
{
    /// <inheritdoc/>
    public CommandSpec Spec { get; } = new(
        "up",
        "--config FILE [--http PORT --www DIR] [--echo PORT] [--udp-echo PORT] [--socks5 ADDR:PORT [--socks5-password PW]] [--forward MAPPING] [--publish MAPPING] [--verbose]",
        "run a node from a wg-quick configuration file until SIGINT/SIGTERM",
        [
            new OptionSpec("--config", "FILE", "wg-quick configuration ([Interface] and [Peer] sections; '# Name = db' names a peer)"),
            new OptionSpec("--http", "PORT", "serve HTTP/1.1 (Kestrel) on this tailnet TCP port (needs --www): GET/HEAD /NAME with ranges, PUT or POST /sink"),
            new OptionSpec("--www", "DIR", "directory whose files --http serves"),
            new OptionSpec("--echo", "PORT", "TCP echo server on this tailnet port", Repeatable: true),
            new OptionSpec("--udp-echo", "PORT", "UDP echo server on this tailnet port", Repeatable: true),
            new OptionSpec("--socks5", "ADDR:PORT", "loopback SOCKS5 proxy into the tailnet (127.0.0.1 or [::1] only; port 0 = ephemeral)"),
            new OptionSpec("--socks5-password", "PW", "the proxy's password (user tsnet); default: 32 random hex characters"),
            new OptionSpec("--forward", "tcp|udp:[LISTEN_ADDR:]PORT=TARGET:PORT", "host → tailnet: a host listener (default 127.0.0.1) proxied to a tailnet address or peer name; IPv6 in brackets", Repeatable: true),
            new OptionSpec("--publish", "tcp|udp:PORT=HOST_ADDR:PORT", "tailnet → host: a tailnet port proxied to a host address", Repeatable: true),
            new OptionSpec("--verbose", null, "log debug messages to stderr"),
        ]);

    /// <inheritdoc/>
    public async Task<int> RunAsync(ParsedArguments args, CliConsole console, CancellationToken cancellationToken)
    {
        var settings = Validate(args);
        if (!File.Exists(settings.ConfigFile))
        {
            await console.Error.WriteLineAsync($"{settings.ConfigFile}: no such file").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        if (settings.Www is not null && !Directory.Exists(settings.Www))
        {
            await console.Error.WriteLineAsync($"tsnet up: --www: {settings.Www}: no such directory").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        TailnetServerOptions options;
        try
        {
            var text = await File.ReadAllTextAsync(settings.ConfigFile, cancellationToken).ConfigureAwait(false);
            options = TailnetServerOptions.FromWireGuardConfig(text, warning => console.Error.WriteLine(ConfigMessages.Warning(settings.ConfigFile, warning)));
        }
        catch (WireGuardConfigException e)
        {
            await console.Error.WriteLineAsync(ConfigMessages.Error(settings.ConfigFile, e.LineNumber, e.Reason)).ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await console.Error.WriteLineAsync($"{settings.ConfigFile}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        using var loggerFactory = new TextWriterLoggerFactory(console.Error, settings.Verbose ? LogLevel.Debug : LogLevel.Information, reportedByCaller: ReportedHere);
        options.LoggerFactory = loggerFactory;
        var logger = loggerFactory.CreateLogger("TsNet.Tool");

        TailnetServer node;
        try
        {
            node = new TailnetServer(options);
        }
        catch (ArgumentException e)
        {
            await console.Error.WriteLineAsync($"{settings.ConfigFile}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var services = new List<ITailnetService>();
        var stage = "starting";
        await using (node.ConfigureAwait(false))
        {
            try
            {
                stage = $"starting the node (UDP port {options.ListenPort})";
                await node.StartAsync(cancellationToken).ConfigureAwait(false);
                stage = "starting the services";
                await StartServicesAsync(node, settings, services, loggerFactory, cancellationToken).ConfigureAwait(false);
                await console.Out.WriteLineAsync(ReadyLine(node)).ConfigureAwait(false);
                foreach (var proxy in services.OfType<LoopbackProxyService>())
                {
                    await console.Out.WriteLineAsync(proxy.AnnouncementLine).ConfigureAwait(false);
                }

                await console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
                UpLog.Running(logger, node.PublicKey.ToString(), node.ListenPort, services.Sum(service => service.Count));

                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                UpLog.Stopping(logger);
            }
            catch (PortPublishingException e) when (e.InnerException is ArgumentException reason)
            {
                // The target names no configured peer (or is not dialable by name): a configuration error, not a run-time one.
                var flag = e.Mapping.Direction == PortMappingDirection.HostToTailnet ? "--forward" : "--publish";
                await console.Error.WriteLineAsync($"tsnet up: {flag} {e.Mapping}: {WithoutParameterName(reason)} Name a peer of {settings.ConfigFile} ('# Name = NAME' in its [Peer] section) or use an address in its AllowedIPs.").ConfigureAwait(false);
                await StopServicesAsync(services).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && stage.StartsWith("starting the node", StringComparison.Ordinal))
            {
                var origin = options.ListenPort == 0 ? "any free port" : $"ListenPort in {settings.ConfigFile}";
                await console.Error.WriteLineAsync($"tsnet up: UDP port {options.ListenPort} ({origin}) is already in use: stop the program using it, or set another ListenPort in {settings.ConfigFile} (0 picks a free port).").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
            catch (Exception e) when (e is SocketException or IOException or InvalidOperationException or ArgumentException)
            {
                await console.Error.WriteLineAsync($"tsnet up: failed {stage}: {e.Message}").ConfigureAwait(false);
                await StopServicesAsync(services).ConfigureAwait(false);
                return ExitCodes.Failure;
            }

            await StopServicesAsync(services).ConfigureAwait(false);
        }

        UpLog.Stopped(logger);
        return ExitCodes.Success;
    }

    /// <summary>Library log events whose cause <see cref="RunAsync"/> prints itself as one line (logged under --verbose only).</summary>
    private static readonly HashSet<(string Category, int EventId)> ReportedHere =
    [
        ("TsNet.TailnetServer", 1120), // the node could not start
        ("TsNet.Publishing", 3201), // a --forward/--publish mapping could not be published
    ];

    /// <summary>The line printed once the node is up: IPv4 addresses first, then IPv6.</summary>
    public static string ReadyLine(TailnetServer node)
    {
        var addresses = node.Addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetworkV6 ? 1 : 0);
        return $"ready address={string.Join(',', addresses)} port={node.ListenPort} publickey={node.PublicKey}";
    }

    /// <summary>An argument error's message without .NET's <c>(Parameter 'host')</c> suffix, which means nothing to a user.</summary>
    private static string WithoutParameterName(ArgumentException e) =>
        e.ParamName is { } name ? e.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal) : e.Message;

    /// <summary>Checks the options that belong together and returns them; throws <see cref="UsageException"/> otherwise.</summary>
    internal static UpSettings Validate(ParsedArguments args)
    {
        var config = args.Value("--config") ?? throw new UsageException("--config FILE is required");
        var http = args.Port("--http");
        var www = args.Value("--www");
        if (http is not null && www is null)
        {
            throw new UsageException("--http needs --www DIR");
        }

        if (www is not null && http is null)
        {
            throw new UsageException("--www needs --http PORT");
        }

        var echo = args.Ports("--echo");
        var udpEcho = args.Ports("--udp-echo");
        var tcpPorts = echo.Concat(http is null ? [] : [http.Value]).ToList();
        var duplicateTcp = tcpPorts.GroupBy(p => p).FirstOrDefault(g => g.Count() > 1);
        if (duplicateTcp is not null)
        {
            throw new UsageException($"TCP port {duplicateTcp.Key} is used twice");
        }

        var duplicateUdp = udpEcho.GroupBy(p => p).FirstOrDefault(g => g.Count() > 1);
        if (duplicateUdp is not null)
        {
            throw new UsageException($"UDP port {duplicateUdp.Key} is used twice");
        }

        System.Net.IPEndPoint? socks5 = null;
        if (args.Value("--socks5") is { } socksText)
        {
            if (!System.Net.IPEndPoint.TryParse(socksText, out socks5) || !socksText.Contains(':', StringComparison.Ordinal))
            {
                throw new UsageException($"--socks5 {socksText}: expected ADDR:PORT, e.g. 127.0.0.1:1080 or [::1]:1080");
            }

            if (!(socks5.Address.Equals(System.Net.IPAddress.Loopback) || socks5.Address.Equals(System.Net.IPAddress.IPv6Loopback)))
            {
                throw new UsageException($"--socks5 {socksText}: the proxy binds only 127.0.0.1 or [::1] (it must not be reachable from other hosts)");
            }
        }

        var socksPassword = args.Value("--socks5-password");
        if (socksPassword is not null && socks5 is null)
        {
            throw new UsageException("--socks5-password needs --socks5 ADDR:PORT");
        }

        if (socksPassword is not null && (socksPassword.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(socksPassword) > 255))
        {
            throw new UsageException("--socks5-password must be 1-255 bytes (RFC 1929)");
        }

        var mappings = new List<PortMapping>();
        foreach (var (flag, parse) in new (string, Func<string, PortMapping>)[] { ("--forward", PortMapping.ParseForward), ("--publish", PortMapping.ParsePublish) })
        {
            foreach (var text in args.Values(flag))
            {
                try
                {
                    mappings.Add(parse(text));
                }
                catch (FormatException e)
                {
                    throw new UsageException($"{flag}: {e.Message}");
                }
            }
        }

        return new UpSettings(config, http, www, echo, udpEcho, args.Has("--verbose")) { Socks5 = socks5, Socks5Password = socksPassword, PortMappings = mappings };
    }

    private static async Task StartServicesAsync(TailnetServer node, UpSettings settings, List<ITailnetService> services, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        if (settings.HttpPort is { } httpPort)
        {
            services.Add(await TailnetHttpService.StartAsync(node, httpPort, settings.Www!, loggerFactory, settings.Verbose, cancellationToken).ConfigureAwait(false));
        }

        var serviceLogger = loggerFactory.CreateLogger("TsNet.Tool.Services");
        foreach (var port in settings.EchoPorts)
        {
            services.Add(await TcpListenerService.StartAsync(node, port, "echo", TcpEcho.HandleAsync, serviceLogger, cancellationToken).ConfigureAwait(false));
        }

        foreach (var port in settings.UdpEchoPorts)
        {
            services.Add(await UdpEchoService.StartAsync(node, port, serviceLogger, cancellationToken).ConfigureAwait(false));
        }

        if (settings.PortMappings.Count > 0)
        {
            services.Add(new PortPublicationService(await node.PublishAsync(settings.PortMappings, cancellationToken).ConfigureAwait(false)));
        }

        if (settings.Socks5 is { } socks5)
        {
            var proxy = await node.StartLoopbackProxyAsync(new LoopbackProxyOptions { EndPoint = socks5, Password = settings.Socks5Password }, cancellationToken).ConfigureAwait(false);
            services.Add(new LoopbackProxyService(proxy));
        }
    }

    private static async Task StopServicesAsync(List<ITailnetService> services)
    {
        foreach (var service in services)
        {
            await service.DisposeAsync().ConfigureAwait(false);
        }

        services.Clear();
    }
}
