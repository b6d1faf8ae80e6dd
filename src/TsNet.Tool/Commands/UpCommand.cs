using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TsNet.Tool.Cli;
using TsNet.Tool.Http;
using TsNet.Tool.LocalApi;
using TsNet.Tool.Logging;
using TsNet.Tool.Services;

namespace TsNet.Tool.Commands;

/// <summary>
/// <c>tsnet up --config FILE [--http PORT --www DIR] [--echo PORT] [--udp-echo PORT]</c>: runs one node from a
/// wg-quick file, with optional services on the tailnet, until SIGINT/SIGTERM. Once up it prints exactly one line
/// on stdout, <c>ready address=A[,A6] port=UDP publickey=KEY</c>; logs go to stderr.
/// <c>tsnet up --login-server URL [--authkey KEY] ...</c> joins a tailnet instead (control mode): while an interactive
/// login is pending it prints <c>login url=URL</c>, and once running the ready line ends in <c>name=DNS-NAME</c>.
/// </summary>
/// Once up it serves the local status API on a Unix socket (<c>--socket</c>, see <see cref="LocalApiSocketPath"/>).
/// <param name="configureNodeOptions">Adjusts the node's options just before the node is made (tests: test hooks).</param>
/// <param name="environment">Reads environment variables (<c>TS_AUTHKEY</c>, <c>XDG_RUNTIME_DIR</c>); tests pass their own.</param>
internal sealed class UpCommand(Action<TailnetServerOptions>? configureNodeOptions = null, Func<string, string?>? environment = null) : ICommand
{
    /// <inheritdoc/>
    public CommandSpec Spec { get; } = new(
        "up",
        "--config FILE | --login-server URL [--authkey KEY] [--hostname NAME] [--state DIR] [--ephemeral] [--advertise-tags tag:a,tag:b] [--advertise-routes CIDR,CIDR] [--accept-routes]\n" +
        "      [--http PORT --www DIR] [--echo PORT] [--udp-echo PORT] [--socks5 ADDR:PORT [--socks5-password PW]] [--forward MAPPING] [--publish MAPPING] [--socket PATH] [--verbose]",
        "run a node from a wg-quick configuration file, or join a tailnet through its coordination server, until SIGINT/SIGTERM",
        [
            new OptionSpec("--config", "FILE", "wg-quick configuration ([Interface] and [Peer] sections; '# Name = db' names a peer)"),
            .. UpControlArguments.Options,
            new OptionSpec("--http", "PORT", "serve HTTP/1.1 (Kestrel) on this tailnet TCP port (needs --www): GET/HEAD /NAME with ranges, PUT or POST /sink"),
            new OptionSpec("--www", "DIR", "directory whose files --http serves"),
            new OptionSpec("--echo", "PORT", "TCP echo server on this tailnet port", Repeatable: true),
            new OptionSpec("--udp-echo", "PORT", "UDP echo server on this tailnet port", Repeatable: true),
            new OptionSpec("--socks5", "ADDR:PORT", "loopback SOCKS5 proxy into the tailnet (127.0.0.1 or [::1] only; port 0 = ephemeral)"),
            new OptionSpec("--socks5-password", "PW", "the proxy's password (user tsnet); default: 32 random hex characters"),
            new OptionSpec("--forward", "tcp|udp:[LISTEN_ADDR:]PORT=TARGET:PORT", "host → tailnet: a host listener (default 127.0.0.1) proxied to a tailnet address or peer name; IPv6 in brackets (with --login-server a name not on the tailnet is logged, the node keeps running)", Repeatable: true),
            new OptionSpec("--publish", "tcp|udp:PORT=HOST_ADDR:PORT", "tailnet → host: a tailnet port proxied to a host address", Repeatable: true),
            LocalApiArguments.ServeOption,
            new OptionSpec("--verbose", null, "log debug messages to stderr"),
        ]);

    /// <inheritdoc/>
    public async Task<int> RunAsync(ParsedArguments args, CliConsole console, CancellationToken cancellationToken)
    {
        var settings = Validate(args);
        var control = settings.Control;
        if (settings.ConfigFile is { } configFile && !File.Exists(configFile))
        {
            await console.Error.WriteLineAsync($"{configFile}: no such file").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        if (settings.Www is not null && !Directory.Exists(settings.Www))
        {
            await console.Error.WriteLineAsync($"tsnet up: --www: {settings.Www}: no such directory").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        // Where an options error comes from: the wg-quick file, or the command line in control mode.
        var source = settings.ConfigFile ?? "tsnet up";
        TailnetServerOptions options;
        if (control is not null)
        {
            options = control.ToOptions(environment ?? Environment.GetEnvironmentVariable);
        }
        else
        {
            try
            {
                var text = await File.ReadAllTextAsync(source, cancellationToken).ConfigureAwait(false);
                options = TailnetServerOptions.FromWireGuardConfig(text, warning => console.Error.WriteLine(ConfigMessages.Warning(source, warning)));
            }
            catch (WireGuardConfigException e)
            {
                await console.Error.WriteLineAsync(ConfigMessages.Error(source, e.LineNumber, e.Reason)).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await console.Error.WriteLineAsync($"{source}: {e.Message}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
        }

        using var loggerFactory = new TextWriterLoggerFactory(console.Error, settings.Verbose ? LogLevel.Debug : LogLevel.Information, reportedByCaller: ReportedHere);
        options.LoggerFactory = loggerFactory;
        configureNodeOptions?.Invoke(options);
        var logger = loggerFactory.CreateLogger("TsNet.Tool");

        TailnetServer node;
        try
        {
            node = new TailnetServer(options);
        }
        catch (ArgumentException e)
        {
            await console.Error.WriteLineAsync($"{source}: {WithoutParameterName(e)}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (Exception e) when (control?.StateDirectory is { } state && e is IOException or UnauthorizedAccessException)
        {
            // The state directory could not be created or read (its keys are loaded at construction).
            await console.Error.WriteLineAsync($"tsnet up: --state {state}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var output = new UpOutput(console);
        void OnStateChanged(object? sender, TailnetStateChangedEventArgs e)
        {
            if (e.State == TailnetState.NeedsLogin && e.AuthUrl is { } authUrl)
            {
                // stdout gets the URL until the node is ready; stderr always (a later re-login shows there).
                output.TryWriteLoginUrl(authUrl);
                UpLog.WaitingForLogin(logger, authUrl.AbsoluteUri);
            }
        }

        var services = new List<ITailnetService>();
        LocalApiServer? localApi = null;
        var stage = "starting";
        await using (node.ConfigureAwait(false))
        {
            try
            {
                if (control is not null)
                {
                    // Subscribed before the node starts, so that no login URL goes unprinted.
                    node.StateChanged += OnStateChanged;
                    stage = $"joining the tailnet of {control.LoginServer}";
                    UpLog.Joining(logger, control.LoginServer.AbsoluteUri, options.Hostname ?? string.Empty);
                    await node.StartAsync(cancellationToken).ConfigureAwait(false);

                    // Served while a login is pending too, so that 'tsnet status' shows the node as it waits.
                    stage = "starting the local status API";
                    localApi = StartLocalApi(settings.Socket, control.StateDirectory, environment ?? Environment.GetEnvironmentVariable, node, loggerFactory.CreateLogger("TsNet.Tool.LocalApi"));
                    stage = $"joining the tailnet of {control.LoginServer}";
                    await node.UpAsync(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    stage = $"starting the node (UDP port {options.ListenPort})";
                    await node.StartAsync(cancellationToken).ConfigureAwait(false);
                    stage = "starting the local status API";
                    localApi = StartLocalApi(settings.Socket, null, environment ?? Environment.GetEnvironmentVariable, node, loggerFactory.CreateLogger("TsNet.Tool.LocalApi"));
                }

                stage = "starting the services";
                await StartServicesAsync(node, settings, services, loggerFactory, cancellationToken).ConfigureAwait(false);
                var announcements = new List<string>();
                foreach (var service in services)
                {
                    if (service is LoopbackProxyService proxy)
                    {
                        announcements.Add(proxy.AnnouncementLine);
                    }
                }

                output.WriteReady(ReadyLine(node, control is not null), announcements);
                int serviceCount = 0;
                foreach (var service in services)
                {
                    serviceCount += service.Count;
                }

                UpLog.Running(logger, node.PublicKey.ToString(), node.ListenPort, serviceCount);

                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                UpLog.Stopping(logger);
            }
            catch (TailnetLoginException e)
            {
                // The server's own words, one line: a bad or expired auth key, a node it does not allow, ...
                await console.Error.WriteLineAsync($"tsnet up: {control?.LoginServer.AbsoluteUri} refused the login: {OneLine(e.Message)}").ConfigureAwait(false);
                await StopServicesAsync(services).ConfigureAwait(false);
                return ExitCodes.Failure;
            }
            catch (PortPublishingException e) when (e.InnerException is ArgumentException reason)
            {
                // The target names no configured peer (or is not dialable by name): a configuration error, not a run-time one.
                var flag = e.Mapping.Direction == PortMappingDirection.HostToTailnet ? "--forward" : "--publish";
                await console.Error.WriteLineAsync($"tsnet up: {flag} {e.Mapping}: {WithoutParameterName(reason)} Name a peer of {source} ('# Name = NAME' in its [Peer] section) or use an address in its AllowedIPs.").ConfigureAwait(false);
                await StopServicesAsync(services).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && stage.StartsWith("starting the node", StringComparison.Ordinal))
            {
                var origin = options.ListenPort == 0 ? "any free port" : $"ListenPort in {source}";
                await console.Error.WriteLineAsync($"tsnet up: UDP port {options.ListenPort} ({origin}) is already in use: stop the program using it, or set another ListenPort in {source} (0 picks a free port).").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
            catch (Exception e) when (e is SocketException or IOException or InvalidOperationException or ArgumentException or HttpRequestException or LocalApiException)
            {
                await console.Error.WriteLineAsync($"tsnet up: failed {stage}: {e.Message}").ConfigureAwait(false);
                await StopServicesAsync(services).ConfigureAwait(false);
                return ExitCodes.Failure;
            }
            finally
            {
                node.StateChanged -= OnStateChanged;
                if (localApi is not null)
                {
                    await localApi.DisposeAsync().ConfigureAwait(false);
                }
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
        ("TsNet.TailnetServer", 1414), // a login is required: the login url= line and UpLog.WaitingForLogin say so
        ("TsNet.TailnetServer", 1415), // the coordination server refused the node: printed as one line with its message
        ("TsNet.Control.Client.ControlClient", 1501), // the same refusal, as the control client sees it
        ("TsNet.Control.Client.ControlClient", 1502), // the same login URL, as the control client sees it
    ];

    /// <summary>
    /// The line printed once the node is up: IPv4 addresses first, then IPv6; in control mode followed by
    /// <c>name=</c> and the node's DNS name (empty when the server gives the node none).
    /// </summary>
    public static string ReadyLine(TailnetServer node, bool controlMode = false)
    {
        var line = ReadyLine(node.Addresses, node.ListenPort, node.PublicKey);
        return controlMode ? line + " name=" + node.DnsName : line;
    }

    /// <summary>The static-mode ready line: <c>ready address=A[,A6] port=UDP publickey=KEY</c>.</summary>
    public static string ReadyLine(IEnumerable<System.Net.IPAddress> addresses, int port, WireGuardKey publicKey)
    {
        // IPv4 first, each family in its given order: a stable split, as LINQ's OrderBy was, without its sorting code.
        var ordered = new List<System.Net.IPAddress>();
        var ipv6 = new List<System.Net.IPAddress>();
        foreach (var address in addresses)
        {
            (address.AddressFamily == AddressFamily.InterNetworkV6 ? ipv6 : ordered).Add(address);
        }

        ordered.AddRange(ipv6);
        return $"ready address={string.Join(',', ordered)} port={port} publickey={publicKey}";
    }

    /// <summary>
    /// The first port (in order of first mention) that <paramref name="ports"/> lists again, or null. A loop, not
    /// LINQ's GroupBy: a few ports, and no grouping code for int in the native binary.
    /// </summary>
    private static int? FirstRepeated(IReadOnlyList<int> ports)
    {
        for (int i = 0; i < ports.Count; i++)
        {
            for (int j = i + 1; j < ports.Count; j++)
            {
                if (ports[i] == ports[j])
                {
                    return ports[i];
                }
            }
        }

        return null;
    }

    /// <summary>A server message on one line (a multi-line message would break the one-line contract).</summary>
    private static string OneLine(string message) => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>An argument error's message without .NET's <c>(Parameter 'host')</c> suffix, which means nothing to a user.</summary>
    private static string WithoutParameterName(ArgumentException e) =>
        e.ParamName is { } name ? e.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal) : e.Message;

    /// <summary>Checks the options that belong together and returns them; throws <see cref="UsageException"/> otherwise.</summary>
    internal static UpSettings Validate(ParsedArguments args)
    {
        var control = UpControlArguments.Validate(args);
        var config = args.Value("--config");
        if (config is null && control is null)
        {
            throw new UsageException($"--config FILE or {UpControlArguments.LoginServer} URL is required");
        }

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
        var tcpPorts = new List<int>(echo);
        if (http is not null)
        {
            tcpPorts.Add(http.Value);
        }

        if (FirstRepeated(tcpPorts) is { } duplicateTcp)
        {
            throw new UsageException($"TCP port {duplicateTcp} is used twice");
        }

        if (FirstRepeated(udpEcho) is { } duplicateUdp)
        {
            throw new UsageException($"UDP port {duplicateUdp} is used twice");
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

        return new UpSettings(config, http, www, echo, udpEcho, args.Has("--verbose")) { Socks5 = socks5, Socks5Password = socksPassword, PortMappings = mappings, Control = control, Socket = args.Value(LocalApiArguments.Socket) };
    }

    /// <summary>
    /// Serves the local API: on <paramref name="socket"/> when given (failing is an error: the user asked for it), else
    /// on the default path, where the node runs on without it when another node answers there (logged as information:
    /// two nodes on defaults) or it cannot be made (a warning: no right to make <c>/run/tsnet</c>, ...).
    /// </summary>
    /// <exception cref="LocalApiException">The <c>--socket</c> path cannot be served.</exception>
    private static LocalApiServer? StartLocalApi(string? socket, string? stateDirectory, Func<string, string?> environment, TailnetServer node, ILogger logger)
    {
        var path = LocalApiSocketPath.Resolve(socket, stateDirectory, environment);
        try
        {
            return LocalApiServer.Start(path, node, logger);
        }
        catch (LocalApiException e) when (socket is null && e.PathTaken)
        {
            LocalApiLog.DefaultSocketTaken(logger, path);
            return null;
        }
        catch (LocalApiException e) when (socket is null)
        {
            LocalApiLog.NotServing(logger, e.Message);
            return null;
        }
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

        if (settings.PortMappings.Count > 0 && settings.Control is null)
        {
            services.Add(new PortPublicationService(await node.PublishAsync(settings.PortMappings, cancellationToken).ConfigureAwait(false)));
        }
        else if (settings.PortMappings.Count > 0)
        {
            // Control mode: peer names come from the server and change while the node runs, so a target that names no
            // peer (yet) is a run-time error of that one mapping, logged; the node and its other mappings run on.
            foreach (var mapping in settings.PortMappings)
            {
                try
                {
                    services.Add(new PortPublicationService(await node.PublishAsync([mapping], cancellationToken).ConfigureAwait(false)));
                }
                catch (PortPublishingException e) when (e.InnerException is ArgumentException reason)
                {
                    var flag = mapping.Direction == PortMappingDirection.HostToTailnet ? "--forward" : "--publish";
                    UpLog.MappingNotPublished(serviceLogger, flag, mapping.ToString(), WithoutParameterName(reason));
                }
            }
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
