using TsNet.WireGuard.Protocol;

namespace TsNet.Tests.WireGuard;

/// <summary>wireguard-go replay_test.go sequences (wireguard.md §7).</summary>
public sealed class ReplayWindowTests
{
    private const ulong Limit = ulong.MaxValue - (1UL << 13);
    private const ulong T = ReplayWindow.WindowSize + 1;

    [Fact]
    public void KnownAnswerSequence()
    {
        var filter = new ReplayWindow();
        var steps = new (ulong Counter, bool Accept)[]
        {
            (0, true), (1, true), (1, false), (9, true), (8, true), (7, true), (7, false),
            (T, true), (T - 1, true), (T - 1, false), (T - 2, true), (2, true), (2, false),
            (T + 16, true), (3, false), (T + 16, false), (4 * T, true), ((4 * T) - (T - 1), true),
            (10, false), ((4 * T) - T, false), ((4 * T) - (T + 1), false), ((4 * T) - (T - 2), true),
            ((4 * T) + 1 - T, false), (0, false), (Limit, false), (Limit - 1, true), (Limit, false),
            (Limit - 1, false), (Limit - 2, true), (Limit + 1, false), (Limit + 2, false),
            (Limit - 2, false), (Limit - 3, true), (0, false),
        };
        for (var i = 0; i < steps.Length; i++)
        {
            filter.TryAccept(steps[i].Counter, Limit).Should().Be(steps[i].Accept, $"step {i + 1}: counter {steps[i].Counter}");
        }
    }

    [Fact]
    public void BulkSequences()
    {
        var filter = new ReplayWindow();
        for (ulong i = 1; i <= ReplayWindow.WindowSize; i++)
        {
            filter.TryAccept(i, Limit).Should().BeTrue();
        }

        filter.TryAccept(0, Limit).Should().BeTrue();
        filter.TryAccept(0, Limit).Should().BeFalse();

        filter.Reset();
        for (ulong i = 2; i <= ReplayWindow.WindowSize + 1; i++)
        {
            filter.TryAccept(i, Limit).Should().BeTrue();
        }

        filter.TryAccept(1, Limit).Should().BeTrue();
        filter.TryAccept(0, Limit).Should().BeFalse();

        filter.Reset();
        for (var i = ReplayWindow.WindowSize + 1; i > 0; i--)
        {
            filter.TryAccept(i, Limit).Should().BeTrue();
        }

        filter.Reset();
        for (var i = ReplayWindow.WindowSize + 2; i > 1; i--)
        {
            filter.TryAccept(i, Limit).Should().BeTrue();
        }

        filter.TryAccept(0, Limit).Should().BeFalse();

        filter.Reset();
        for (var i = ReplayWindow.WindowSize; i > 0; i--)
        {
            filter.TryAccept(i, Limit).Should().BeTrue();
        }

        filter.TryAccept(ReplayWindow.WindowSize + 1, Limit).Should().BeTrue();
        filter.TryAccept(0, Limit).Should().BeFalse();

        filter.Reset();
        for (var i = ReplayWindow.WindowSize; i > 0; i--)
        {
            filter.TryAccept(i, Limit).Should().BeTrue();
        }

        filter.TryAccept(0, Limit).Should().BeTrue();
        filter.TryAccept(ReplayWindow.WindowSize + 1, Limit).Should().BeTrue();
    }
}
