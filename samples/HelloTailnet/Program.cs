// HelloTailnet: listen and dial over a tailnet.
//   dotnet run --project samples/HelloTailnet                       two nodes in this process (no peer needed)
//   dotnet run --project samples/HelloTailnet -- --config wg0.conf  one node against the peers in a wg-quick file
using HelloTailnet;
using TsNet;

string? configPath = null;
string? dial = null;
var listenPort = 0;
var timeout = TimeSpan.FromSeconds(30);
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--config" when i + 1 < args.Length:
            configPath = args[++i];
            break;
        case "--dial" when i + 1 < args.Length:
            dial = args[++i];
            break;
        case "--listen" when i + 1 < args.Length && int.TryParse(args[i + 1], out var port) && port is > 0 and < 65536:
            listenPort = port;
            i++;
            break;
        case "--timeout" when i + 1 < args.Length && int.TryParse(args[i + 1], out var seconds) && seconds > 0:
            timeout = TimeSpan.FromSeconds(seconds);
            i++;
            break;
        default:
            Console.Error.WriteLine("usage: HelloTailnet [--config wg0.conf [--dial HOST:PORT] [--listen PORT]] [--timeout SECONDS]");
            return 2;
    }
}

// Every run is bounded: a peer that never answers ends the sample instead of hanging it.
using var deadline = new CancellationTokenSource(timeout);
try
{
    if (configPath is null)
    {
        await InProcessDemo.RunAsync(deadline.Token);
    }
    else
    {
        await ConfigRun.RunAsync(configPath, dial, listenPort, deadline.Token);
    }

    Console.WriteLine("done");
    return 0;
}
catch (OperationCanceledException) when (deadline.IsCancellationRequested)
{
    Console.Error.WriteLine($"gave up after {timeout.TotalSeconds:0} s");
    return 1;
}
catch (WireGuardConfigException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
catch (Exception e) when (e is TimeoutException or System.Net.Sockets.SocketException or IOException)
{
    Console.Error.WriteLine($"failed: {e.Message}");
    return 1;
}
