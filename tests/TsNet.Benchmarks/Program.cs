namespace TsNet.Benchmarks;

internal static class Program
{
    /// <summary>
    /// <c>throughput ...</c> runs a TsNet node that sinks or sources TCP bytes (<see cref="Throughput.ThroughputCommand"/>);
    /// anything else goes to BenchmarkDotNet's switcher.
    /// </summary>
    private static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "throughput")
        {
            return Throughput.ThroughputCommand.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "idle-connections")
        {
            return IdleConnectionsCommand.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        if (args.Length > 0 && args[0] == "socks5")
        {
            return Socks5.Socks5Command.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        if (args.Length > 0 && args[0] == "loop-wakes")
        {
            return LoopWakesCommand.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        if (args.Length > 0 && args[0] == "queue-cost")
        {
            return QueueCostCommand.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "netmap")
        {
            return Control.NetmapBenchCommand.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "up-time")
        {
            return Control.UpTimeCommand.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        if (args.Length > 0 && args[0] == "relay")
        {
            return Relay.RelayBenchCommand.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        if (args.Length > 0 && args[0] == "crypto-cpu")
        {
            return Crypto.CryptoCpuCommand.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "aead-cpu")
        {
            return Crypto.AeadCpuCommand.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "mstat")
        {
            return NativeSize.MstatCommand.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "fuzz")
        {
            return Fuzz.FuzzCommand.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "soak")
        {
            return Soak.SoakCommand.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
