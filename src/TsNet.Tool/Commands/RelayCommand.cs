using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TsNet.Tool.Cli;
using TsNet.Tool.Logging;
using TsNet.Tool.RelayApi;

namespace TsNet.Tool.Commands;

/// <summary>
/// <c>tsnet relay --port P [--allocate 127.0.0.1:Q]</c>: runs a standalone <see cref="UdpRelayServer"/> until
/// SIGINT/SIGTERM. Once listening it prints <c>relay port=P disco=discokey:HEX</c> on stdout (and, with
/// <c>--allocate</c>, <c>allocate http://ADDR:PORT/v0/relay/endpoint</c>); logs go to stderr. With <c>--allocate</c>
/// it answers tailscale's pre-capability-121 allocation call on that loopback address (<see cref="RelayAllocationHandler"/>).
/// </summary>
internal sealed class RelayCommand : ICommand
{
    /// <inheritdoc/>
    public CommandSpec Spec { get; } = new(
        "relay",
        "--port P [--allocate ADDR:PORT] [--bind ADDR] [--advertise ADDR:PORT] [--verbose]",
        "run a standalone Tailscale-compatible UDP relay server until SIGINT/SIGTERM",
        [
            new OptionSpec("--port", "P", "UDP port of the relay (0 = ephemeral; the 'relay' line shows the port)"),
            new OptionSpec("--allocate", "ADDR:PORT", "serve HTTP POST " + RelayAllocationHandler.Path + " here (127.0.0.1 or [::1] only; port 0 = ephemeral)"),
            new OptionSpec("--bind", "ADDR", "bind the relay to this local address (default: the IPv4 and IPv6 wildcards)", Repeatable: true),
            new OptionSpec("--advertise", "ADDR:PORT", "also hand out this address to clients, first (e.g. a public address forwarded to this host)", Repeatable: true),
            new OptionSpec("--verbose", null, "log debug messages to stderr"),
        ]);

    /// <summary>The line printed once the relay is listening.</summary>
    public static string ReadyLine(UdpRelayServer relay) => $"relay port={relay.Port} disco={relay.DiscoPublicKey}";

    /// <summary>The line printed once the allocation endpoint is listening.</summary>
    public static string AllocateLine(IPEndPoint endPoint) => $"allocate http://{endPoint}{RelayAllocationHandler.Path}";

    /// <inheritdoc/>
    public async Task<int> RunAsync(ParsedArguments args, CliConsole console, CancellationToken cancellationToken)
    {
        var settings = Validate(args);
        using var loggerFactory = new TextWriterLoggerFactory(console.Error, settings.Verbose ? LogLevel.Debug : LogLevel.Information);
        var logger = loggerFactory.CreateLogger("TsNet.Tool");
        var options = new UdpRelayServerOptions { Port = settings.Port, LoggerFactory = loggerFactory };
        foreach (var address in settings.BindAddresses)
        {
            options.BindAddresses.Add(address);
        }

        foreach (var endPoint in settings.Advertised)
        {
            options.AdvertisedEndpoints.Add(endPoint);
        }

        UdpRelayServer relay;
        try
        {
            relay = await UdpRelayServer.StartAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            await console.Error.WriteLineAsync($"tsnet relay: failed binding UDP port {settings.Port}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }

        await using (relay.ConfigureAwait(false))
        {
            RelayAllocationServer? allocation = null;
            try
            {
                if (settings.Allocate is { } allocate)
                {
                    try
                    {
                        var handler = new RelayAllocationHandler(relay, loggerFactory.CreateLogger("TsNet.Tool.RelayApi"));
                        allocation = await RelayAllocationServer.StartAsync(allocate, handler, loggerFactory, settings.Verbose, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is IOException or SocketException)
                    {
                        await console.Error.WriteLineAsync($"tsnet relay: failed listening on --allocate {allocate}: {e.Message}").ConfigureAwait(false);
                        return ExitCodes.Failure;
                    }
                }

                await console.Out.WriteLineAsync(ReadyLine(relay)).ConfigureAwait(false);
                if (allocation is not null)
                {
                    await console.Out.WriteLineAsync(AllocateLine(allocation.LocalEndPoint)).ConfigureAwait(false);
                }

                await console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
                RelayLog.Running(logger, relay.DiscoPublicKey.ToString(), relay.Port, string.Join(",", relay.AdvertisedEndpoints));
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                RelayLog.Stopping(logger);
            }
            finally
            {
                if (allocation is not null)
                {
                    await allocation.DisposeAsync().ConfigureAwait(false);
                }
            }

            var counters = relay.GetCounters();
            RelayLog.Stopped(logger, counters.ForwardedPackets, counters.ForwardedBytes, counters.LegsBound, counters.TotalDrops);
        }

        return ExitCodes.Success;
    }

    /// <summary>Checks the options and returns them; throws <see cref="UsageException"/> otherwise.</summary>
    internal static RelaySettings Validate(ParsedArguments args)
    {
        var portText = args.Value("--port") ?? throw new UsageException("--port P is required (0 = ephemeral)");
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > IPEndPoint.MaxPort)
        {
            throw new UsageException($"--port: '{portText}' is not a port number (0-65535)");
        }

        var bind = new List<IPAddress>();
        foreach (var text in args.Values("--bind"))
        {
            if (!IPAddress.TryParse(text, out var address) || text.Contains('%', StringComparison.Ordinal))
            {
                throw new UsageException($"--bind {text}: expected an IPv4 or IPv6 address");
            }

            bind.Add(address);
        }

        if (new HashSet<IPAddress>(bind).Count != bind.Count)
        {
            throw new UsageException("--bind: an address is given twice");
        }

        var advertised = new List<IPEndPoint>();
        foreach (var text in args.Values("--advertise"))
        {
            if (!TryParseEndPoint(text, out var endPoint) || endPoint.Port == 0)
            {
                throw new UsageException($"--advertise {text}: expected ADDR:PORT with a non-zero port, e.g. 203.0.113.7:41641 or [2001:db8::7]:41641");
            }

            advertised.Add(endPoint);
        }

        IPEndPoint? allocate = null;
        if (args.Value("--allocate") is { } allocateText)
        {
            if (!TryParseEndPoint(allocateText, out allocate))
            {
                throw new UsageException($"--allocate {allocateText}: expected ADDR:PORT, e.g. 127.0.0.1:9000 or [::1]:9000");
            }

            if (!(allocate.Address.Equals(IPAddress.Loopback) || allocate.Address.Equals(IPAddress.IPv6Loopback)))
            {
                throw new UsageException($"--allocate {allocateText}: the allocation endpoint binds only 127.0.0.1 or [::1] (it has no authentication)");
            }
        }

        return new RelaySettings(port, bind, advertised, allocate, args.Has("--verbose"));
    }

    // ADDR:PORT with the port required (IPEndPoint.TryParse alone accepts a bare address as port 0).
    private static bool TryParseEndPoint(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPEndPoint? endPoint)
    {
        endPoint = null;
        var colon = text.LastIndexOf(':');
        bool bracketed = text.StartsWith('[');
        if (colon < 1 || (bracketed && text[colon - 1] != ']') || (!bracketed && text.IndexOf(':', StringComparison.Ordinal) != colon) || text.Contains('%', StringComparison.Ordinal))
        {
            return false;
        }

        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return false;
        }

        return IPEndPoint.TryParse(text, out endPoint);
    }
}
