using TsNet.WireGuard.Protocol;

namespace TsNet.Paths;

/// <summary>Why a ping was sent (magicsock's ping purposes that a minimal client uses).</summary>
internal enum DiscoPingPurpose : byte
{
    /// <summary>A discovery round probing candidates.</summary>
    Discovery,

    /// <summary>Keeping the best address trusted while data flows.</summary>
    Heartbeat,
}

/// <summary>An outstanding ping awaiting its pong: transaction id, where it went, when.</summary>
internal readonly record struct DiscoSentPing(TransactionId TxId, UnderlayAddress To, long SentAt, DiscoPingPurpose Purpose);
