using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TsNet;

namespace TsNet.Extensions.Hosting;

/// <summary>
/// Runs the host's <see cref="TailnetServer"/>: starts it before the other hosted services start (so Kestrel, or a
/// worker, finds it listening) and disposes it after they all stopped (so they drain their tailnet connections
/// first). Starting binds the node's socket and begins the login, but never waits for the login to finish: a
/// pending interactive login is logged with its URL and the host runs on.
/// </summary>
internal sealed class TailnetHostedService : IHostedLifecycleService
{
    private readonly TailnetServer _server;
    private readonly ILogger _logger;

    public TailnetHostedService(TailnetServer server, ILoggerFactory loggerFactory)
    {
        _server = server;
        _logger = loggerFactory.CreateLogger(Log.Category);
        _server.StateChanged += OnStateChanged;
    }

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await _server.StartAsync(cancellationToken).ConfigureAwait(false);
        Log.Started(_logger, _server.PublicKey.ToString(), _server.ListenPort);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        _server.StateChanged -= OnStateChanged;
        // The host's shutdown timeout bounds the wait; the dispose itself goes on (the container awaits it again).
        await _server.DisposeAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void OnStateChanged(object? sender, TailnetStateChangedEventArgs e)
    {
        switch (e.State)
        {
            case TailnetState.NeedsLogin when e.AuthUrl is { } authUrl:
                Log.LoginRequired(_logger, authUrl);
                break;
            case TailnetState.Running:
                Log.Running(_logger, _server.DnsName ?? _server.PublicKey.ToString(), string.Join(", ", _server.Addresses));
                break;
            case TailnetState.Expired:
                Log.Expired(_logger);
                break;
            case TailnetState.Faulted:
                Log.Faulted(_logger, e.Exception);
                break;
            case TailnetState.Stopped when e.Exception is { } cause:
                Log.StoppedWithError(_logger, cause.Message, cause);
                break;
        }
    }
}
