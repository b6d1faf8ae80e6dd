using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using TsNet.InteropTests.Harness;

namespace TsNet.InteropTests.Tailscale.Harness;

/// <summary>
/// <c>derper</c> on 127.0.0.1: TLS only (v1.36.2 clients always use TLS to DERP) on a free TCP port, STUN on a free UDP
/// port, manual certificate mode with a self-signed certificate for <see cref="HostName"/> made by <c>openssl</c> (the
/// control server's DERP map marks the node InsecureForTests, so clients skip verification but send that name as SNI).
/// Ready (bounded) once it logged its STUN port and a TLS handshake on its port presents that certificate. Pass <see cref="TlsPort"/> and <see cref="StunPort"/> to
/// <see cref="TestControlServerOptions"/>. Dispose kills it.
/// </summary>
public sealed class DerpServer : IAsyncDisposable
{
    /// <summary>The DERP node's name (the control server's default <c>-derp-host</c>).</summary>
    public const string HostName = "derp.tail.test";

    /// <summary>Bound for derper to accept connections.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private TailscaleChild _child;
    private TailscaleWorkDir? _workDir;
    private byte[] _certificate = [];
    private int _starts = 1;

    private DerpServer(TailscaleChild child, int tlsPort, int stunPort)
    {
        _child = child;
        TlsPort = tlsPort;
        StunPort = stunPort;
    }

    /// <summary>The TLS (DERP) port on 127.0.0.1.</summary>
    public int TlsPort { get; }

    /// <summary>The STUN UDP port.</summary>
    public int StunPort { get; }

    /// <summary>The derper process (a new one after <see cref="RestartAsync"/>).</summary>
    public TailscaleChild Process => _child;

    /// <summary>Makes the certificate (once per work directory) and starts derper; on a lost port race retries once with new ports.</summary>
    public static async Task<DerpServer> StartAsync(TailscaleWorkDir workDir, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workDir);
        TailscaleBinaries.EnsureAvailable();
        var certificateDirectory = workDir.Subdirectory("derp");
        var certificate = await MakeCertificateAsync(workDir, certificateDirectory, cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            var tlsPort = TailscalePorts.FreeTcp();
            var stunPort = TailscalePorts.FreeUdp();
            var arguments = Arguments(certificateDirectory, tlsPort, stunPort);
            var logPath = workDir.File($"derper-{attempt}.log");
            var child = TailscaleChild.Start(TailscaleBinaries.PathOf(TailscaleBinaries.DerperName), arguments, workDir.Path, logPath, workDir.Log, "derper");
            string? failure;
            try
            {
                failure = await WaitServingAsync(child, tlsPort, stunPort, certificate, cancellationToken);
            }
            catch
            {
                await child.DisposeAsync();
                throw;
            }

            if (failure is null)
            {
                workDir.Log.Write($"[derper] ready: TLS 127.0.0.1:{tlsPort}, STUN :{stunPort}");
                return new DerpServer(child, tlsPort, stunPort) { _workDir = workDir, _certificate = certificate };
            }

            await child.DisposeAsync();
            var log = File.Exists(logPath) ? await File.ReadAllTextAsync(logPath, cancellationToken) : string.Empty;
            if (attempt >= 2 || !TailscalePorts.IsBindConflict(log))
            {
                throw new InvalidOperationException($"derper did not start: {failure}; log {logPath}: {ProcessRunner.Truncate(log.Trim())}");
            }

            workDir.Log.Write("derper lost the race for a port; retrying with other ports");
        }
    }

    /// <summary>
    /// Stops derper (SIGTERM, then SIGKILL) and starts a new one on the same ports with the same certificate and key
    /// file: every client's DERP connection breaks and must reconnect. Returns once the new process serves (bounded by
    /// <see cref="StartTimeout"/>); a bind conflict while the old sockets go away is retried (bounded, 5 tries).
    /// </summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        var workDir = _workDir ?? throw new InvalidOperationException("derper was not started by StartAsync");
        await _child.DisposeAsync();
        var certificateDirectory = workDir.Subdirectory("derp");
        string? failure = null;
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var logPath = workDir.File($"derper-restart-{Interlocked.Increment(ref _starts)}.log");
            var child = TailscaleChild.Start(
                TailscaleBinaries.PathOf(TailscaleBinaries.DerperName), Arguments(certificateDirectory, TlsPort, StunPort), workDir.Path, logPath, workDir.Log, "derper");
            _child = child;
            failure = await WaitServingAsync(child, TlsPort, StunPort, _certificate, cancellationToken);
            if (failure is null)
            {
                workDir.Log.Write($"[derper] restarted: pid {child.Id}, TLS 127.0.0.1:{TlsPort}, STUN :{StunPort}");
                return;
            }

            await child.DisposeAsync();
            var log = File.Exists(logPath) ? await File.ReadAllTextAsync(logPath, cancellationToken) : string.Empty;
            failure += $"; log {logPath}: {ProcessRunner.Truncate(log.Trim())}";
            if (!TailscalePorts.IsBindConflict(log))
            {
                break;
            }

            // The old process's sockets are still going away: try again shortly (bounded by the attempt count).
            await Task.Delay(200, cancellationToken);
        }

        throw new InvalidOperationException($"derper did not restart on TLS {TlsPort} / STUN {StunPort}: {failure}");
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _child.DisposeAsync();

    private static string[] Arguments(string certificateDirectory, int tlsPort, int stunPort) =>
    [
        "-c", Path.Combine(certificateDirectory, "derper.json"),
        "-a", "127.0.0.1:" + tlsPort.ToString(CultureInfo.InvariantCulture),
        "-http-port", "-1",
        "-stun-port", stunPort.ToString(CultureInfo.InvariantCulture),
        "-certmode", "manual",
        "-certdir", certificateDirectory,
        "-hostname", HostName,
    ];

    /// <summary>Makes the certificate (unless the work directory has it) and returns its DER bytes.</summary>
    private static async Task<byte[]> MakeCertificateAsync(TailscaleWorkDir workDir, string directory, CancellationToken cancellationToken)
    {
        var certificate = Path.Combine(directory, HostName + ".crt");
        if (File.Exists(certificate))
        {
            return ReadDer(certificate);
        }

        // derper's manual mode loads <hostname>.crt/.key from -certdir and refuses any other SNI.
        var runner = new ProcessRunner(workDir.Log);
        await runner.RunCheckedAsync(
            "openssl",
            new[]
            {
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                "-subj", "/CN=" + HostName, "-addext", $"subjectAltName=DNS:{HostName},IP:127.0.0.1",
                "-keyout", Path.Combine(directory, HostName + ".key"), "-out", certificate,
            },
            TimeSpan.FromSeconds(30),
            cancellationToken: cancellationToken);
        return ReadDer(certificate);
    }

    private static byte[] ReadDer(string pemFile)
    {
        var text = File.ReadAllText(pemFile);
        var pem = PemEncoding.Find(text);
        return Convert.FromBase64String(text[pem.Base64Data]);
    }

    private static async Task<string?> WaitServingAsync(TailscaleChild child, int tlsPort, int stunPort, byte[] certificate, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();

        // derper logs the STUN line after binding that port; the TLS port is proven by a handshake that presents our
        // certificate (not merely "something accepts on that port").
        var stunLine = "running STUN server on 127.0.0.1:" + stunPort.ToString(CultureInfo.InvariantCulture);
        if (await child.WaitForLineAsync(line => line.Contains(stunLine, StringComparison.Ordinal), StartTimeout, cancellationToken) is null)
        {
            return child.HasExited ? $"exited with {child.ExitCode}" : $"no \"{stunLine}\" within {StartTimeout.TotalSeconds:0} s";
        }

        string? last = null;
        while (true)
        {
            if (child.HasExited)
            {
                return $"exited with {child.ExitCode}";
            }

            try
            {
                if (await PresentsCertificateAsync(tlsPort, certificate, cancellationToken))
                {
                    return null;
                }

                last = "a different certificate answered";
            }
            catch (Exception e) when (e is SocketException or IOException or AuthenticationException)
            {
                last = e.Message;
            }

            if (clock.Elapsed >= StartTimeout)
            {
                return $"no TLS with our certificate on 127.0.0.1:{tlsPort} within {StartTimeout.TotalSeconds:0} s ({last})";
            }

            // Not serving yet: check again shortly (bounded by StartTimeout).
            await Task.Delay(50, cancellationToken);
        }
    }

    private static async Task<bool> PresentsCertificateAsync(int port, byte[] certificate, CancellationToken cancellationToken)
    {
        using var client = new TcpClient(AddressFamily.InterNetwork);
        await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        byte[]? presented = null;
        await using var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = HostName,

                // Self-signed on purpose; the check is that it is exactly ours.
                RemoteCertificateValidationCallback = (_, remote, _, _) =>
                {
                    presented = remote?.GetRawCertData();
                    return true;
                },
            },
            cancellationToken);
        return presented is not null && presented.AsSpan().SequenceEqual(certificate);
    }
}
