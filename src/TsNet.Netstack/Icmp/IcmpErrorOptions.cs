namespace TsNet.Netstack;

/// <summary>ICMP error settings of a <see cref="NetstackCore"/> (part of <see cref="NetstackOptions"/>).</summary>
internal sealed class IcmpErrorOptions
{
    /// <summary>Default sustained rate of ICMP errors we send. Linux allows 1000/s with a burst of 50 for the whole
    /// host (<c>icmp_msgs_per_sec</c>, <c>icmp_msgs_burst</c>); one userspace node needs a tenth of that, and a
    /// lower rate makes it a worse reflector.</summary>
    public const double DefaultErrorsPerSecond = 100;

    /// <summary>Default burst: Linux's <c>icmp_msgs_burst</c>.</summary>
    public const int DefaultBurst = 50;

    /// <summary>Default bound on remembered path MTUs: enough for every peer of a large tailnet, small enough that a
    /// flood of forged "packet too big" messages costs little memory.</summary>
    public const int DefaultPathMtuCapacity = 1024;

    /// <summary>Default lifetime of a learned path MTU (RFC 1191 §6.3, RFC 8201 §5.3: 10 minutes).</summary>
    public static readonly TimeSpan DefaultPathMtuExpiry = TimeSpan.FromMinutes(10);

    /// <summary>Token refill rate of the ICMP error token bucket, per second (default 100).</summary>
    public double ErrorsPerSecond { get; init; } = DefaultErrorsPerSecond;

    /// <summary>Token bucket size: errors that may go out back to back (default 50).</summary>
    public int Burst { get; init; } = DefaultBurst;

    /// <summary>Destinations with a learned path MTU, at most (default 1024).</summary>
    public int PathMtuCapacity { get; init; } = DefaultPathMtuCapacity;

    /// <summary>How long a learned path MTU is used before the link MTU is tried again (default 10 minutes).</summary>
    public TimeSpan PathMtuExpiry { get; init; } = DefaultPathMtuExpiry;

    internal void Validate()
    {
        if (!(ErrorsPerSecond > 0) || double.IsInfinity(ErrorsPerSecond))
        {
            throw new ArgumentOutOfRangeException(nameof(ErrorsPerSecond), ErrorsPerSecond, "Must be a positive, finite rate.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Burst, 1, nameof(Burst));
        ArgumentOutOfRangeException.ThrowIfLessThan(PathMtuCapacity, 1, nameof(PathMtuCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PathMtuExpiry, TimeSpan.Zero, nameof(PathMtuExpiry));
    }
}
