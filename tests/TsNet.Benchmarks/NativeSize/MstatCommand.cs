using System.Globalization;

namespace TsNet.Benchmarks.NativeSize;

/// <summary>
/// <c>mstat FILE.mstat [--top N]</c>: where the native <c>tsnet</c> binary's bytes go, from the statistics of
/// <c>dotnet publish src/TsNet.Tool -c Release -r linux-x64 -p:PublishAot=true -p:IlcGenerateMstatFile=true</c>
/// (<c>src/TsNet.Tool/obj/Release/net10.0/linux-x64/native/TsNet.Tool.mstat</c>): bytes per section, per group of
/// assemblies, per assembly, namespace and type. The sums are not the binary's size (13.9 MB listed for a 12.3 MB
/// binary): runtime data listed under <c>Blobs</c> (dehydrated type data, frozen objects) is counted again per type,
/// and the binary adds the native runtime. Compare two publishes with each other, not with the file.
/// </summary>
internal static class MstatCommand
{
    /// <summary>Runs the command; 0 on success, 2 on bad arguments.</summary>
    public static int Run(string[] args)
    {
        if (args.Length is not (1 or 3) || (args.Length == 3 && args[1] != "--top"))
        {
            Console.Error.WriteLine("usage: mstat FILE.mstat [--top N]");
            return 2;
        }

        var top = args.Length == 3 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 40;
        var items = MstatFile.Read(args[0]).Items;
        Print("section", items.GroupBy(i => i.Section), int.MaxValue);
        Print("group", items.GroupBy(i => GroupOf(i.Assembly)), int.MaxValue);
        Print("assembly", items.GroupBy(i => i.Assembly), top);
        Print("namespace", items.GroupBy(i => i.Assembly + " : " + i.Namespace), top);
        Print("type", items.GroupBy(i => i.Type), top);
        return 0;
    }

    /// <summary>The part of the tool an assembly belongs to, for the summary.</summary>
    public static string GroupOf(string assembly) => assembly switch
    {
        _ when assembly.StartsWith("TsNet", StringComparison.Ordinal) => "TsNet (library, CLI)",
        _ when assembly.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal) || assembly is "Microsoft.Net.Http.Headers" or "System.IO.Pipelines"
            || (assembly.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) && assembly != "Microsoft.Extensions.Logging.Abstractions") => "ASP.NET Core (Kestrel, DI, options)",
        "System.Text.Json" or "System.Text.Encodings.Web" => "System.Text.Json",
        "System.Private.Uri" => "networking (HttpClient, TLS, sockets)",
        _ when assembly.StartsWith("System.Net.", StringComparison.Ordinal) => "networking (HttpClient, TLS, sockets)",
        "System.Security.Cryptography" or "System.Formats.Asn1" or "BouncyCastle.Crypto" => "cryptography",
        "ZstdSharp" => "ZstdSharp (control map decompression)",
        _ when assembly.StartsWith("System.Private.", StringComparison.Ordinal) => "runtime (CoreLib incl. generic instantiations)",
        _ when assembly.StartsWith('[') => "runtime data (metadata, type data, frozen objects, stack trace map)",
        _ => "other libraries",
    };

    private static void Print(string title, IEnumerable<IGrouping<string, MstatItem>> groups, int top)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"== by {title} =="));
        foreach (var (name, bytes) in groups.Select(g => (g.Key, g.Sum(i => i.Bytes))).OrderByDescending(g => g.Item2).Take(top))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0,10:0.0} KiB  {name}"));
        }

        Console.WriteLine();
    }
}
