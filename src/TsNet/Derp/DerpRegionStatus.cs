namespace TsNet.Derp;

/// <summary>A snapshot of one DERP region connection.</summary>
/// <param name="RegionId">The region ID.</param>
/// <param name="RegionCode">The region's short code from the DERP map.</param>
/// <param name="Connected">The DERP handshake completed and the connection is up.</param>
/// <param name="IsHome">This is the home (preferred) region.</param>
/// <param name="LastError">The last connect or connection error, or null.</param>
/// <param name="PacketsSent">Packets written to the server.</param>
/// <param name="PacketsReceived">Packets received from the server.</param>
/// <param name="Drops">Packets dropped on this region (full send queue, too big, lost with a connection, full inbound queue).</param>
internal sealed record DerpRegionStatus(
    int RegionId,
    string? RegionCode,
    bool Connected,
    bool IsHome,
    string? LastError,
    long PacketsSent,
    long PacketsReceived,
    long Drops);
