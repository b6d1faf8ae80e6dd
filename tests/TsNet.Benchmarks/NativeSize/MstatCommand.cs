using System.Globalization;

namespace TsNet.Benchmarks.NativeSize;

/// <summary>
/// <c>mstat FILE.mstat [--top N] [--items TEXT]</c>: where the native <c>tsnet</c> binary's bytes go, from the statistics of
/// <c>dotnet publish src/TsNet.Tool -c Release -r linux-x64 -p:PublishAot=true -p:IlcGenerateMstatFile=true</c>
/// (<c>src/TsNet.Tool/obj/Release/net10.0/linux-x64/native/TsNet.Tool.mstat</c>): bytes per section, per group of
/// assemblies, per assembly, namespace and type. The sums are not the binary's size (13.9 MB listed for a 12.3 MB
/// binary): runtime data listed under <c>Blobs</c> (dehydrated type data, frozen objects) is counted again per type,
/// and the binary adds the native runtime. Compare two publishes with each other, not with the file. With
/// <c>--items TEXT</c> it lists instead the largest single items (methods, types, blobs) whose assembly or name, generic
/// arguments included, contains TEXT: <c>--items StunTarget</c> shows what LINQ over that value type compiled to.
/// </summary>
internal static class MstatCommand
{
    /// <summary>Runs the command; 0 on success, 2 on bad arguments.</summary>
    public static int Run(string[] args)
    {
        var top = 40;
        string? items = null;
        for (int i = 1; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length || args[i] is not ("--top" or "--items"))
            {
                return Usage();
            }

            if (args[i] == "--top")
            {
                top = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
            else
            {
                items = args[i + 1];
            }
        }

        if (args.Length == 0)
        {
            return Usage();
        }

        var all = MstatFile.Read(args[0]).Items;
        if (items is not null)
        {
            PrintItems(all, items, top);
            return 0;
        }

        Print("section", all.GroupBy(i => i.Section), int.MaxValue);
        Print("group", all.GroupBy(i => GroupOf(i.Assembly)), int.MaxValue);
        Print("assembly", all.GroupBy(i => i.Assembly), top);
        Print("namespace", all.GroupBy(i => i.Assembly + " : " + i.Namespace), top);
        Print("type", all.GroupBy(i => i.Type), top);
        return 0;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: mstat FILE.mstat [--top N] [--items TEXT]");
        return 2;
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

    private static void PrintItems(IReadOnlyList<MstatItem> items, string text, int top)
    {
        var matching = items.Where(i => i.Assembly.Contains(text, StringComparison.Ordinal) || i.Name.Contains(text, StringComparison.Ordinal)).ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"== items matching '{text}': {matching.Count}, {matching.Sum(i => i.Bytes) / 1024.0:0.0} KiB =="));
        foreach (var item in matching.OrderByDescending(i => i.Bytes).Take(top))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{item.Bytes,8}  {item.Section,-14} {item.Assembly}  {item.Name}"));
        }
    }

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
