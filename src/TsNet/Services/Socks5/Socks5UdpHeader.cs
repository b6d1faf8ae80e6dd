using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace TsNet.Services.Socks5;

/// <summary>
/// The RFC 1928 §7 header of a datagram from the client: <c>RSV(2) FRAG(1) ATYP DST.ADDR DST.PORT DATA</c>.
/// Built only through <see cref="TryParse"/> from untrusted bytes.
/// </summary>
internal readonly record struct Socks5UdpHeader(byte Fragment, IPAddress? Address, string? Host, int Port, int PayloadOffset)
{
    private const int FragmentOffset = 2;
    private const int AddressTypeOffset = 3;
    private const int AddressOffset = 4;

    /// <summary>False for datagrams too short for their address type, an unknown ATYP or an empty domain name.</summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out Socks5UdpHeader header)
    {
        header = default;
        if (datagram.Length < AddressOffset)
        {
            return false;
        }

        var fragment = datagram[FragmentOffset];
        int addressLength;
        IPAddress? address = null;
        string? host = null;
        switch (datagram[AddressTypeOffset])
        {
            case Socks5Protocol.AddressIpv4:
                addressLength = 4;
                break;
            case Socks5Protocol.AddressIpv6:
                addressLength = 16;
                break;
            case Socks5Protocol.AddressDomain:
                if (datagram.Length < AddressOffset + 1 || datagram[AddressOffset] == 0)
                {
                    return false;
                }

                addressLength = 1 + datagram[AddressOffset];
                break;
            default:
                return false;
        }

        var portOffset = AddressOffset + addressLength;
        if (datagram.Length < portOffset + 2)
        {
            return false;
        }

        if (datagram[AddressTypeOffset] == Socks5Protocol.AddressDomain)
        {
            host = Encoding.ASCII.GetString(datagram.Slice(AddressOffset + 1, addressLength - 1));
        }
        else
        {
            address = Socks5Protocol.Normalize(new IPAddress(datagram.Slice(AddressOffset, addressLength)));
        }

        header = new Socks5UdpHeader(fragment, address, host, BinaryPrimitives.ReadUInt16BigEndian(datagram.Slice(portOffset, 2)), portOffset + 2);
        return true;
    }

    /// <summary>Writes the header of a datagram to the client, naming <paramref name="source"/>; returns its length.</summary>
    public static int WriteReplyHeader(Span<byte> destination, IPEndPoint source)
    {
        destination[0] = 0;
        destination[1] = 0;
        destination[FragmentOffset] = 0;
        return Socks5Protocol.UdpHeaderPrefixLength + Socks5Protocol.WriteAddress(destination[Socks5Protocol.UdpHeaderPrefixLength..], source);
    }
}
