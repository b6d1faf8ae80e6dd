using TsNet.Tool.Cli;

namespace TsNet.Tool.Commands;

/// <summary>
/// The lines <c>tsnet up</c> prints on stdout, which scripts read: <c>login url=URL</c> (control mode, once per login
/// URL the server hands out, never after <c>ready</c>), then <c>ready …</c> and the <c>socks5 …</c> line. The login
/// line comes from <see cref="TailnetServer.StateChanged"/> on a thread-pool thread, so every write takes one lock.
/// </summary>
internal sealed class UpOutput(CliConsole console)
{
    private readonly Lock _gate = new();
    private Uri? _lastLoginUrl;
    private bool _ready;

    /// <summary>
    /// Prints <c>login url=URL</c> unless that URL was the last one printed or the node is already ready (a late
    /// event). Returns true when it printed.
    /// </summary>
    public bool TryWriteLoginUrl(Uri authUrl)
    {
        ArgumentNullException.ThrowIfNull(authUrl);
        lock (_gate)
        {
            if (_ready || authUrl == _lastLoginUrl)
            {
                return false;
            }

            _lastLoginUrl = authUrl;
            console.Out.WriteLine($"login url={authUrl.AbsoluteUri}");
            console.Out.Flush();
            return true;
        }
    }

    /// <summary>Prints the <c>ready</c> line and the lines that follow it (proxy announcements); no login line comes after.</summary>
    public void WriteReady(string readyLine, IEnumerable<string> followingLines)
    {
        lock (_gate)
        {
            _ready = true;
            console.Out.WriteLine(readyLine);
            foreach (var line in followingLines)
            {
                console.Out.WriteLine(line);
            }

            console.Out.Flush();
        }
    }
}
