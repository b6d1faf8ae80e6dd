namespace TsNet;

/// <summary>
/// The fire-and-forget work a node starts (applying a peer update, re-resolving an endpoint's host name, disposing a
/// loop that lost a start/dispose race): tracked so that disposing the node waits for it and nothing outlives the node.
/// </summary>
internal sealed class BackgroundTaskTracker
{
    private readonly HashSet<Task> _running = new();

    public int Count
    {
        get
        {
            lock (_running)
            {
                return _running.Count;
            }
        }
    }

    /// <summary>Starts tracking <paramref name="task"/>; it leaves the set when it completes (its exceptions are observed there).</summary>
    public void Track(Task task)
    {
        lock (_running)
        {
            _running.Add(task);
        }

        task.ContinueWith(
            static (completed, state) =>
            {
                _ = completed.Exception; // observed: each tracked task logs its own failures
                var running = (HashSet<Task>)state!;
                lock (running)
                {
                    running.Remove(completed);
                }
            },
            _running,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>
    /// The tracked tasks still running. A task that has completed counts as gone even while its removal continuation
    /// has yet to run (a waiter resumed by the same completion can look before that continuation does).
    /// </summary>
    public Task[] Snapshot()
    {
        lock (_running)
        {
            _running.RemoveWhere(static task => task.IsCompleted);
            return [.. _running];
        }
    }

    /// <summary>Waits (at most <paramref name="limit"/>) until every tracked task has completed; true when they all did.</summary>
    public async Task<bool> WaitAllAsync(TimeSpan limit)
    {
        Task[] snapshot;
        lock (_running)
        {
            snapshot = _running.ToArray();
        }

        if (snapshot.Length == 0)
        {
            return true;
        }

        try
        {
            // WaitAsync disposes its timer as soon as the tasks finish: no timer outlives the node.
            await Task.WhenAll(snapshot).WaitAsync(limit).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (Exception)
        {
            // Failures are the tracked tasks' own business (each logs them); they did complete.
        }

        return true;
    }
}
