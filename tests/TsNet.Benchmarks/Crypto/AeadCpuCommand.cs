using System.Globalization;
using TsNet.WireGuard.Crypto;

namespace TsNet.Benchmarks.Crypto;

/// <summary>
/// <c>aead-cpu [--ops N]</c>: TsNet's transport seal and open of one 1420-byte packet (the libcrypto backend the
/// dataplane uses), in this thread's CPU time per operation — the counterpart of <c>aead-reference.c</c>'s
/// <c>seal</c> and <c>open</c> modes, which make the same libcrypto calls from C. <c>run-aead-reference.sh</c> runs
/// both, and <c>openssl speed</c>, interleaved. Prints <c>seal NS ns/op</c> and <c>open NS ns/op</c>. Linux only.
/// </summary>
internal static class AeadCpuCommand
{
    private const int PacketSize = 1420;

    public static int Run(string[] args)
    {
        int ops = args.Length >= 2 && args[0] == "--ops" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 300_000;
        byte[] key = new byte[32];
        key[0] = 1;
        key[1] = 2;
        key[2] = 3;
        using var cipher = TransportCipher.Create(key, TransportCipherBackend.OpenSsl);
        byte[] packet = new byte[PacketSize], tag = new byte[16], sealedPacket = new byte[PacketSize], sealedTag = new byte[16];
        Array.Fill(packet, (byte)0x5a);
        packet.CopyTo(sealedPacket, 0);
        cipher.Seal(0, sealedPacket, sealedTag);

        // Warm-up: the JIT's tiers settle before the timed loops (the C reference has nothing to warm).
        for (int i = 0; i < 50_000; i++)
        {
            cipher.Seal((ulong)i, packet, tag);
            sealedPacket.CopyTo(packet, 0);
            cipher.Open(0, packet, sealedTag);
        }

        Thread.Sleep(200);
        for (int i = 0; i < 20_000; i++)
        {
            cipher.Seal((ulong)i, packet, tag);
        }

        double start = ThreadCpuClock.Seconds();
        for (int i = 0; i < ops; i++)
        {
            cipher.Seal((ulong)i, packet, tag);
        }

        double seal = (ThreadCpuClock.Seconds() - start) / ops;

        bool allOpened = true;
        start = ThreadCpuClock.Seconds();
        for (int i = 0; i < ops; i++)
        {
            // As the C reference: copy the sealed packet in, then open it in place.
            sealedPacket.CopyTo(packet, 0);
            allOpened &= cipher.Open(0, packet, sealedTag);
        }

        double open = (ThreadCpuClock.Seconds() - start) / ops;
        if (!allOpened)
        {
            Console.Error.WriteLine("aead-cpu: a packet failed to open");
            return 1;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seal {seal * 1e9:F1} ns/op"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"open {open * 1e9:F1} ns/op"));
        return 0;
    }
}
