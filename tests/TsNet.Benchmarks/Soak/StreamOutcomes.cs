using System.Collections.Concurrent;

namespace TsNet.Benchmarks.Soak;

/// <summary>
/// What became of the soak's TCP streams (thread-safe): verified, failed unexpectedly, failed while their pair was
/// being churned (expected, counted apart), or cut at the deadline; failures grouped by reason.
/// </summary>
internal sealed class StreamOutcomes
{
    /// <summary>Distinct reasons kept per kind; more are folded into "other".</summary>
    private const int MaxReasons = 32;

    private readonly ConcurrentDictionary<string, int> _unexpected = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _expected = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _serverSide = new(StringComparer.Ordinal);
    private long _ok;
    private long _failedUnexpected;
    private long _failedExpected;
    private long _cut;
    private long _bytesVerified;
    private long _started;

    public long Started => Interlocked.Read(ref _started);

    public long Ok => Interlocked.Read(ref _ok);

    public long FailedUnexpected => Interlocked.Read(ref _failedUnexpected);

    public long FailedExpected => Interlocked.Read(ref _failedExpected);

    public long Cut => Interlocked.Read(ref _cut);

    /// <summary>Payload bytes compared byte for byte with what the sender generated.</summary>
    public long BytesVerified => Interlocked.Read(ref _bytesVerified);

    public IReadOnlyDictionary<string, int> UnexpectedReasons => _unexpected;

    public IReadOnlyDictionary<string, int> ExpectedReasons => _expected;

    /// <summary>Errors the accepting side saw (the connecting side records each stream's outcome; these explain it).</summary>
    public IReadOnlyDictionary<string, int> ServerSideReasons => _serverSide;

    public void AddStarted() => Interlocked.Increment(ref _started);

    public void AddVerified(int bytes) => Interlocked.Add(ref _bytesVerified, bytes);

    public void AddOk() => Interlocked.Increment(ref _ok);

    public void AddCut() => Interlocked.Increment(ref _cut);

    public void AddFailure(string reason, bool expected)
    {
        Interlocked.Increment(ref expected ? ref _failedExpected : ref _failedUnexpected);
        Count(expected ? _expected : _unexpected, reason);
    }

    public void AddServerSide(string reason) => Count(_serverSide, reason);

    private static void Count(ConcurrentDictionary<string, int> reasons, string reason)
    {
        var key = reasons.Count < MaxReasons || reasons.ContainsKey(reason) ? reason : "other";
        reasons.AddOrUpdate(key, 1, (_, count) => count + 1);
    }
}
