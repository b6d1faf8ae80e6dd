namespace TsNet.Benchmarks.Fuzz;

/// <summary>
/// One parser or state machine under fuzz. <see cref="Execute"/> feeds one input and returns normally when the code
/// under test accepted or rejected it the documented way (a false return, a drop counter, the parser's own
/// exception type, which the target catches); anything escaping is a finding. Instances are single-threaded.
/// </summary>
internal interface IFuzzTarget
{
    /// <summary>Valid inputs the mutator starts from (fixed for the life of the instance).</summary>
    IReadOnlyList<byte[]> Corpus { get; }

    /// <summary>Inputs are cut to this length.</summary>
    int MaxInputLength { get; }

    /// <summary>Feeds one input.</summary>
    void Execute(byte[] input);

    /// <summary>How deep the inputs got (counters of the code under test), printed after the run; empty when nothing to say.</summary>
    string Describe() => "";
}

/// <summary>An invariant the target checks after an input (a view outside its buffer, an unbounded queue): a finding.</summary>
internal sealed class FuzzInvariantException(string message) : Exception(message);
