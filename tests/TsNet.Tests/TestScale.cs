namespace TsNet.Tests;

/// <summary><c>TSNET_TEST_SCALE</c>: multiplies long-running tests (transfer sizes, fuzz rounds); 1 unless set.</summary>
internal static class TestScale
{
    public static int Factor { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("TSNET_TEST_SCALE"), out var scale) && scale > 0 ? scale : 1;
}
