using System.Runtime.CompilerServices;

namespace TsNet.WireGuard.Relay;

/// <summary>32 bytes stored inline (a disco key or a challenge inside a message value), so parsing allocates nothing.</summary>
[InlineArray(32)]
internal struct Bytes32
{
    private byte _element0;

    public static Bytes32 From(ReadOnlySpan<byte> bytes)
    {
        var value = default(Bytes32);
        bytes[..32].CopyTo(value);
        return value;
    }
}
