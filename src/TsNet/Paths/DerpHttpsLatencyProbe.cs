using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using TsNet.Control.Protocol;
using TsNet.Derp;

namespace TsNet.Paths;

/// <summary>
/// One HTTPS latency measurement to a DERP node (derp.md §6.4, used when STUN gets no answer):
/// <c>GET /derp/latency-check</c> over the same TCP dial and TLS settings as the DERP connection (IPv4 literal or the
/// resolved host name, SNI = <c>HostName</c>, http/1.1 only, <c>InsecureForTests</c> honoured).
/// </summary>
/// <remarks>
/// The latency is the time from writing the request to reading the response headers on the established TLS
/// connection: one round trip, comparable with STUN's, without the TCP and TLS handshakes.
/// </remarks>
internal static class DerpHttpsLatencyProbe
{
    /// <summary>The whole probe (dial, TLS, request) is given up after this long.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Measures <paramref name="node"/>; null when it failed, timed out or answered with a non-2xx status. Throws only
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public static async Task<TimeSpan?> MeasureAsync(DERPNode node, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(time);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(Timeout);
        try
        {
            var socket = await DerpNodeDialer.ConnectAsync(node, bounded.Token).ConfigureAwait(false);
            await using var stream = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
            await stream.AuthenticateAsClientAsync(DerpTls.OptionsFor(node), bounded.Token).ConfigureAwait(false);
            var request = Encoding.ASCII.GetBytes($"GET /derp/latency-check HTTP/1.1\r\nHost: {node.HostName}\r\nConnection: close\r\n\r\n");
            var reader = new DerpFrameReader(stream);
            long start = time.GetTimestamp();
            await stream.WriteAsync(request, bounded.Token).ConfigureAwait(false);
            await stream.FlushAsync(bounded.Token).ConfigureAwait(false);
            var head = await reader.ReadHttpHeadAsync(bounded.Token).ConfigureAwait(false);
            var latency = time.GetElapsedTime(start);
            return IsSuccess(head) ? latency : null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e) when (e is SocketException or IOException or System.Security.Authentication.AuthenticationException
            or DerpProtocolException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>Whether the status line of <paramref name="head"/> is HTTP/1.x 2xx.</summary>
    internal static bool IsSuccess(string head)
    {
        var statusLine = head.AsSpan(0, head.IndexOf('\r') is var end and >= 0 ? end : head.Length);
        return statusLine.StartsWith("HTTP/1.", StringComparison.Ordinal) && statusLine.Length >= 12
            && statusLine[8] == ' ' && statusLine[9] == '2';
    }
}
