using System.Runtime.InteropServices;
using TsNet.Tool.Cli;

namespace TsNet.Tool;

/// <summary>Entry point of the <c>tsnet</c> command.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        using var stop = new CancellationTokenSource();

        // The first SIGINT/SIGTERM asks the running command to stop cleanly (exit 0 for "up"); a second one while it
        // is still stopping gets the default behaviour and ends the process at once.
        void OnSignal(PosixSignalContext context)
        {
            if (!stop.IsCancellationRequested)
            {
                context.Cancel = true;
                stop.Cancel();
            }
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        var console = new CliConsole(Console.In, Console.Out, Console.Error);
        return await TsNetCli.RunAsync(args, console, stop.Token).ConfigureAwait(false);
    }
}
