namespace TsNet.Loops;

/// <summary>What a loop does on each turn; <see cref="LoopKernel{TLoop}"/> runs it, sleeps between turns and handles faults.</summary>
internal interface ILoopBody
{
    /// <summary>
    /// One turn on the loop task at <paramref name="now"/> (loop ticks): run commands, drain inputs, poll the core,
    /// flush outputs. True when work is still waiting (a batch limit was hit): the next turn starts without sleeping.
    /// </summary>
    ValueTask<bool> StepAsync(long now);

    /// <summary>The core's next timer deadline in loop ticks (<see cref="long.MaxValue"/>: none).</summary>
    long NextDeadline { get; }

    /// <summary>
    /// The loop faulted (an exception escaped a turn): fail everything that waits on it with
    /// <paramref name="failure"/> (whose inner exception is the cause). Runs on the loop task, after pending commands
    /// were failed.
    /// </summary>
    void OnFaulted(Exception failure);
}
