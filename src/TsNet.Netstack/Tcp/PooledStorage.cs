namespace TsNet.Netstack.Tcp;

/// <summary>Sizes shared by the buffers that rent their arrays from <see cref="System.Buffers.ArrayPool{T}.Shared"/>.</summary>
internal static class PooledStorage
{
    /// <summary>Smallest byte array a buffer rents: one full segment (MSS 1240 at MTU 1280) fits, and small writes need no regrowth.</summary>
    public const int MinRentBytes = 2048;
}
