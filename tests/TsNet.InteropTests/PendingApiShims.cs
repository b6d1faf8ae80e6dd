// ============================================================================================================
// TEMPORARY - DELETE WHEN THE REAL API LANDS.
// The TCP and UDP parts of TailnetServer (docs/api.md) are being built on other branches. Until they are merged,
// these stand-ins with exactly the api.md names let the interop tests compile; every one throws
// NotImplementedException, so the tests that use them fail (never pass) until the real code is here.
// Instance members of TailnetServer win over these extension methods, but the two stand-in TYPES below clash
// with the real ones (CS0436, an error here), so delete each section when its real API is merged:
//   - section "UDP" when TailnetServer.BindUdpAsync / TailnetUdpSocket land (branch wt-udp),
//   - section "TCP" when ListenTcpAsync / ConnectTcpAsync / TailnetListener land,
//   - then this file. tests/TsNet.Benchmarks links this file only while it exists.
// ============================================================================================================
using System.Net;
using System.Net.Sockets;

namespace TsNet;

#region TCP - delete when TailnetServer.ListenTcpAsync / ConnectTcpAsync and TailnetListener land

/// <summary>TEMPORARY stand-in for the api.md TCP surface of <see cref="TailnetServer"/>; delete when the real API lands.</summary>
internal static class PendingTcpApiShims
{
    private const string Pending = "TailnetServer TCP API (api.md) not merged yet; delete PendingApiShims.cs when it lands";

    public static ValueTask<TailnetListener> ListenTcpAsync(this TailnetServer server, int port, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException(Pending);

    public static ValueTask<TailnetConnection> ConnectTcpAsync(this TailnetServer server, string hostAndPort, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException(Pending);

    public static ValueTask<TailnetConnection> ConnectTcpAsync(this TailnetServer server, IPEndPoint remote, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException(Pending);
}

/// <summary>TEMPORARY stand-in for api.md's <c>TailnetListener</c>; delete when the real type lands.</summary>
internal sealed class TailnetListener : IAsyncDisposable
{
    private TailnetListener()
    {
    }

    public IPEndPoint LocalEndPoint => throw new NotImplementedException();

    public ValueTask<TailnetConnection?> AcceptAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public ValueTask DisposeAsync() => throw new NotImplementedException();
}

#endregion

#region UDP - delete when TailnetServer.BindUdpAsync and TailnetUdpSocket land (branch wt-udp)

/// <summary>TEMPORARY stand-in for the api.md UDP surface of <see cref="TailnetServer"/>; delete when the real API lands.</summary>
internal static class PendingUdpApiShims
{
    public static ValueTask<TailnetUdpSocket> BindUdpAsync(this TailnetServer server, int port, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException("TailnetServer.BindUdpAsync (api.md) not merged yet; delete the UDP section of PendingApiShims.cs when it lands");
}

/// <summary>TEMPORARY stand-in for api.md's <c>TailnetUdpSocket</c>; delete when the real type lands.</summary>
internal sealed class TailnetUdpSocket : IAsyncDisposable
{
    private TailnetUdpSocket()
    {
    }

    public IPEndPoint LocalEndPoint => throw new NotImplementedException();

    public ValueTask<int> SendToAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public ValueTask<SocketReceiveFromResult> ReceiveFromAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public ValueTask DisposeAsync() => throw new NotImplementedException();
}

#endregion
