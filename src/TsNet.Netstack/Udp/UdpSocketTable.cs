namespace TsNet.Netstack;

/// <summary>
/// The bound UDP sockets of a <see cref="NetstackCore"/>, by port. A port holds either one socket bound to the "any"
/// address or any number bound to distinct specific addresses — binds overlap like on Linux without
/// <c>SO_REUSEADDR</c>. Demultiplexing prefers an exact address match over "any". Port 0 picks the next free port of
/// the ephemeral range (a port with no socket at all), wrapping around, like tsnet's own listener ports.
/// </summary>
internal sealed class UdpSocketTable
{
    private readonly Dictionary<ushort, List<UdpSocketState>> _byPort = [];
    private readonly int _ephemeralFirst;
    private readonly int _ephemeralLast;
    private int _nextEphemeral;

    public UdpSocketTable(int ephemeralFirst, int ephemeralLast)
    {
        _ephemeralFirst = ephemeralFirst;
        _ephemeralLast = ephemeralLast;
        _nextEphemeral = ephemeralFirst;
    }

    /// <summary>Bound sockets.</summary>
    public int Count { get; private set; }

    /// <summary>Binds a socket; <paramref name="port"/> 0 picks an ephemeral port.</summary>
    public UdpBindResult TryBind(bool isAnyAddress, UInt128 address, bool isIpv6, int port, int receiveQueueCapacity, out UdpSocketState? socket)
    {
        socket = null;
        if ((uint)port > ushort.MaxValue)
        {
            return UdpBindResult.InvalidPort;
        }

        if (port == 0 && !TryPickEphemeral(out port))
        {
            return UdpBindResult.NoFreePort;
        }

        if (!_byPort.TryGetValue((ushort)port, out var bound))
        {
            bound = new List<UdpSocketState>(1);
            _byPort[(ushort)port] = bound;
        }

        foreach (var existing in bound)
        {
            if (isAnyAddress || existing.IsAnyAddress || (existing.IsIpv6 == isIpv6 && existing.LocalAddress == address))
            {
                return UdpBindResult.AddressInUse;
            }
        }

        socket = new UdpSocketState(isAnyAddress, address, isIpv6, (ushort)port, receiveQueueCapacity);
        bound.Add(socket);
        Count++;
        return UdpBindResult.Bound;
    }

    /// <summary>Unbinds <paramref name="socket"/>; false when it was not bound.</summary>
    public bool Remove(UdpSocketState socket)
    {
        if (!_byPort.TryGetValue(socket.LocalPort, out var bound) || !bound.Remove(socket))
        {
            return false;
        }

        if (bound.Count == 0)
        {
            _byPort.Remove(socket.LocalPort);
        }

        Count--;
        return true;
    }

    /// <summary>The socket a datagram to <paramref name="address"/>:<paramref name="port"/> belongs to: an exact
    /// binding first, else the "any" binding; null when the port is closed for that address.</summary>
    public UdpSocketState? Find(UInt128 address, bool isIpv6, ushort port)
    {
        if (!_byPort.TryGetValue(port, out var bound))
        {
            return null;
        }

        UdpSocketState? any = null;
        foreach (var socket in bound)
        {
            if (socket.IsAnyAddress)
            {
                any = socket;
            }
            else if (socket.IsIpv6 == isIpv6 && socket.LocalAddress == address)
            {
                return socket;
            }
        }

        return any;
    }

    /// <summary>Removes every socket and hands each to <paramref name="closed"/>.</summary>
    public void Clear(Action<UdpSocketState> closed)
    {
        foreach (var bound in _byPort.Values)
        {
            foreach (var socket in bound)
            {
                closed(socket);
            }
        }

        _byPort.Clear();
        Count = 0;
    }

    private bool TryPickEphemeral(out int port)
    {
        int rangeSize = _ephemeralLast - _ephemeralFirst + 1;
        for (int i = 0; i < rangeSize; i++)
        {
            int candidate = _nextEphemeral;
            _nextEphemeral = candidate == _ephemeralLast ? _ephemeralFirst : candidate + 1;
            if (!_byPort.ContainsKey((ushort)candidate))
            {
                port = candidate;
                return true;
            }
        }

        port = 0;
        return false;
    }
}
