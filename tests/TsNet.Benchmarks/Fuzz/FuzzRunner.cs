using System.Diagnostics;

namespace TsNet.Benchmarks.Fuzz;

/// <summary>
/// Runs inputs [start, start + count) of one target on a worker thread while the calling thread watches the time each
/// input takes. An exception escaping the target is a finding; an input still running after the hang timeout is a
/// finding too: that worker (and its target instance) is abandoned and a fresh one carries on after it. The run stops
/// early once <c>maxFindings</c> findings were printed.
/// </summary>
internal sealed class FuzzRunner
{
    private readonly string _name;
    private readonly Func<IFuzzTarget> _create;
    private readonly ulong _seed;
    private readonly TimeSpan _hangTimeout;
    private readonly int _maxFindings;
    private readonly TextWriter _log;
    private readonly List<FuzzFinding> _findings = [];
    private long _executed;

    /// <summary>Creates a runner; nothing runs until <see cref="Run"/>.</summary>
    public FuzzRunner(string name, Func<IFuzzTarget> create, ulong seed, TimeSpan hangTimeout, int maxFindings, TextWriter log)
    {
        _name = name;
        _create = create;
        _seed = seed;
        _hangTimeout = hangTimeout;
        _maxFindings = maxFindings;
        _log = log;
    }

    /// <summary>Runs the inputs and returns the counts; <paramref name="progressEvery"/> paces the progress lines.</summary>
    public FuzzRunResult Run(long start, long count, TimeSpan progressEvery)
    {
        var clock = Stopwatch.StartNew();
        var end = start + count;
        var worker = Worker.Start(this, start, end);
        var nextProgress = progressEvery;
        while (true)
        {
            if (worker.Thread.Join(100))
            {
                break;
            }

            if (worker.Current is { } current && Stopwatch.GetElapsedTime(current.StartedAt) is var running && running > _hangTimeout
                && ReferenceEquals(worker.Current, current))
            {
                worker.Abandoned = true;
                Report(new FuzzFinding(_name, _seed, current.Index, current.Input, null, running));
                if (FindingCount >= _maxFindings || current.Index + 1 >= end)
                {
                    break;
                }

                worker = Worker.Start(this, current.Index + 1, end);
            }

            if (clock.Elapsed >= nextProgress)
            {
                nextProgress += progressEvery;
                var done = Interlocked.Read(ref _executed);
                lock (_log)
                {
                    _log.WriteLine($"progress target={_name} inputs={done} index={start + done} inputs/s={done / clock.Elapsed.TotalSeconds:F0} findings={FindingCount}");
                }
            }
        }

        var inputs = Interlocked.Read(ref _executed);
        lock (_findings)
        {
            return new FuzzRunResult(_name, inputs, clock.Elapsed, [.. _findings], FindingCount >= _maxFindings && inputs < count)
            {
                Description = worker.Abandoned ? "" : worker.Target?.Describe() ?? "",
            };
        }
    }

    private int FindingCount
    {
        get
        {
            lock (_findings)
            {
                return _findings.Count;
            }
        }
    }

    private void Report(FuzzFinding finding)
    {
        lock (_findings)
        {
            _findings.Add(finding);
        }

        lock (_log)
        {
            _log.WriteLine(finding.Format());
        }
    }

    private sealed record InFlight(long Index, byte[] Input, long StartedAt);

    private sealed class Worker
    {
        private readonly FuzzRunner _runner;
        private readonly long _start;
        private readonly long _end;

        private Worker(FuzzRunner runner, long start, long end)
        {
            _runner = runner;
            _start = start;
            _end = end;
            Thread = new Thread(Loop) { IsBackground = true, Name = $"fuzz {runner._name}" };
        }

        public Thread Thread { get; }

        public volatile InFlight? Current;

        public volatile bool Abandoned;

        public IFuzzTarget? Target { get; private set; }

        public static Worker Start(FuzzRunner runner, long start, long end)
        {
            var worker = new Worker(runner, start, end);
            worker.Thread.Start();
            return worker;
        }

        private void Loop()
        {
            IFuzzTarget target;
            try
            {
                target = _runner._create();
                Target = target;
            }
            catch (Exception ex)
            {
                _runner.Report(new FuzzFinding(_runner._name, _runner._seed, -1, [], ex, null));
                return;
            }

            var corpus = target.Corpus;
            for (var index = _start; index < _end && !Abandoned; index++)
            {
                var input = FuzzMutator.Generate(_runner._seed, index, corpus, target.MaxInputLength);
                Current = new InFlight(index, input, Stopwatch.GetTimestamp());
                try
                {
                    // The target may keep or modify the array; the finding reports the bytes as generated.
                    target.Execute((byte[])input.Clone());
                }
                catch (Exception ex)
                {
                    if (Abandoned)
                    {
                        return;
                    }

                    _runner.Report(new FuzzFinding(_runner._name, _runner._seed, index, input, ex, null));
                    if (_runner.FindingCount >= _runner._maxFindings)
                    {
                        Current = null;
                        Interlocked.Increment(ref _runner._executed);
                        return;
                    }
                }

                Current = null;
                if (Abandoned)
                {
                    return;
                }

                Interlocked.Increment(ref _runner._executed);
            }
        }
    }
}
