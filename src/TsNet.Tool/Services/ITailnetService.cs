namespace TsNet.Tool.Services;

/// <summary>A service the tool runs on the tailnet (HTTP, echo); disposing stops it and waits (bounded) for its work.</summary>
internal interface ITailnetService : IAsyncDisposable
{
    /// <summary>What runs where, for the log (e.g. <c>http on tcp/80</c>).</summary>
    string Description { get; }

    /// <summary>How many services this is for the log's count (a publication of several mappings is several).</summary>
    int Count => 1;
}
