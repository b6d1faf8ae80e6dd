using System.Globalization;

namespace TsNet.InteropTests.Harness;

/// <summary>
/// Size of the bulk transfers, from the environment variable <c>TSNET_TEST_SCALE</c> (a positive integer, default 1).
/// Scale 1 moves <see cref="SmallTransferBytes"/> per transfer so each test stays well under a minute; a larger scale
/// moves <c>scale × 10 MiB</c> (scale 10 = 100 MiB, the size the issue asks for) and stretches every bound by the scale.
/// </summary>
public static class TestScale
{
    /// <summary>The variable that sets the scale.</summary>
    public const string VariableName = "TSNET_TEST_SCALE";

    /// <summary>Bytes per transfer at scale 1 (4 MiB).</summary>
    public const long SmallTransferBytes = 4L * 1024 * 1024;

    /// <summary>Bytes per transfer per unit of scale above 1 (10 MiB).</summary>
    public const long BytesPerScaleUnit = 10L * 1024 * 1024;

    private static readonly Lazy<int> LazyFactor = new(ReadFactor);

    /// <summary>The scale (1 when unset or not a positive integer).</summary>
    public static int Factor => LazyFactor.Value;

    /// <summary>Bytes of one bulk transfer: 4 MiB at scale 1, <c>scale × 10 MiB</c> above.</summary>
    public static long TransferBytes => Factor <= 1 ? SmallTransferBytes : Factor * BytesPerScaleUnit;

    /// <summary><paramref name="atScaleOne"/> stretched by the scale (a bound for something that grows with the data).</summary>
    public static TimeSpan Bound(TimeSpan atScaleOne) => atScaleOne * Factor;

    /// <summary>Human-readable size, e.g. <c>4.0 MiB</c>.</summary>
    public static string Describe(long bytes) =>
        bytes >= 1024 * 1024
            ? (bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB"
            : bytes.ToString(CultureInfo.InvariantCulture) + " B";

    private static int ReadFactor()
    {
        var text = Environment.GetEnvironmentVariable(VariableName);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1 ? Math.Min(value, 1000) : 1;
    }
}
