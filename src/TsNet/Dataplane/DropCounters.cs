namespace TsNet.Dataplane;

/// <summary>Building the status snapshot's drop table: only reasons that happened are listed.</summary>
internal static class DropCounters
{
    public static void AddIfNonZero(IDictionary<string, long> drops, string reason, long count)
    {
        if (count != 0)
        {
            drops[reason] = count;
        }
    }
}
