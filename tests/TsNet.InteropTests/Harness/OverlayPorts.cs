namespace TsNet.InteropTests.Harness;

/// <summary>
/// Ports for servers on the overlay (a TsNet listener, socat in a test namespace). Every call returns a different
/// port within the run, so a late packet of one test's connection cannot land on the next test's server and the
/// log of a failing test names ports that appear nowhere else. The overlay's ports are private to the test's node
/// and namespace, so no host check is needed.
/// </summary>
public static class OverlayPorts
{
    private const int RangeStart = 10000;
    private const int RangeSize = 20000;

    private static int _next = Random.Shared.Next(RangeSize);

    /// <summary>A port not handed out before in this run (cycles after 20000 calls).</summary>
    public static int Next() => RangeStart + (Interlocked.Increment(ref _next) % RangeSize);
}
