namespace TsNet.Benchmarks.Soak;

/// <summary>Received bytes differ from what the sender generated (never an expected failure, churn or not).</summary>
internal sealed class PayloadMismatchException(string message) : Exception(message);
