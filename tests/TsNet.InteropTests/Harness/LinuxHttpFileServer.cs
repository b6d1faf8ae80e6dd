using System.Globalization;
using System.Net;

namespace TsNet.InteropTests.Harness;

/// <summary>
/// An HTTP/1.1 file server of the Linux kernel behind a <see cref="WireGuardGoPeer"/>: <c>socat TCP-LISTEN,fork
/// EXEC:script</c> in the peer's namespace, where the script reads the request head, answers <c>200</c> with a
/// <c>Content-Length</c> and the file, and exits (socat then closes with FIN). Any number of connections, one at a time
/// each in its own child. Dispose stops socat; never throws.
/// </summary>
public sealed class LinuxHttpFileServer : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private LinuxHttpFileServer(IPEndPoint endPoint, ChildProcess process)
    {
        EndPoint = endPoint;
        _process = process;
    }

    /// <summary>Where the server listens (inside the namespace).</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Serves <paramref name="filePath"/> to every GET on <paramref name="address"/>:<paramref name="port"/>.</summary>
    /// <param name="peer">The namespace to listen in.</param>
    /// <param name="address">The address to bind (the peer's overlay address, IPv4 or IPv6).</param>
    /// <param name="port">The TCP port.</param>
    /// <param name="filePath">The file to serve (must exist; its path must be socat-safe).</param>
    /// <param name="scriptDirectory">A directory for the responder script (a <see cref="TempDirectory"/>).</param>
    /// <param name="cancellationToken">Cancels the wait for socat to listen.</param>
    public static async Task<LinuxHttpFileServer> StartAsync(WireGuardGoPeer peer, IPAddress address, int port, string filePath, string scriptDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(address);
        var length = new FileInfo(filePath).Length;
        var script = Path.Combine(scriptDirectory, "http-" + port.ToString(CultureInfo.InvariantCulture) + ".sh");
        await File.WriteAllTextAsync(
            script,
            "#!/bin/bash\n" +
            "# Read the request head (up to the empty line) so closing never turns into a RST over unread bytes.\n" +
            "while IFS= read -r line; do line=\"${line%$'\\r'}\"; [ -z \"$line\" ] && break; done\n" +
            "printf 'HTTP/1.1 200 OK\\r\\nContent-Type: application/octet-stream\\r\\nContent-Length: " + length.ToString(CultureInfo.InvariantCulture) + "\\r\\nConnection: close\\r\\n\\r\\n'\n" +
            "exec cat '" + filePath + "'\n",
            cancellationToken);

        var listen = Socat.Kind("TCP", address, "-LISTEN") + ":" + port.ToString(CultureInfo.InvariantCulture) + ",bind=" + Socat.Host(address) + ",reuseaddr,fork";
        var endPoint = new IPEndPoint(address, port);
        var process = await Socat.StartListenerAsync(peer, $"socat-http {Socat.HostPort(endPoint)}", new[] { listen, "EXEC:/bin/bash " + Socat.FilePath(script) }, cancellationToken);
        return new LinuxHttpFileServer(endPoint, process);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _process.DisposeAsync();

    /// <inheritdoc/>
    public override string ToString() => $"socat http on {EndPoint}";
}
