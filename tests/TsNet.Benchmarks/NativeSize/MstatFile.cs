using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace TsNet.Benchmarks.NativeSize;

/// <summary>
/// Reads the size statistics NativeAOT writes with <c>-p:IlcGenerateMstatFile=true</c>
/// (<c>obj/…/native/&lt;name&gt;.mstat</c>): a managed assembly whose global methods (<c>Types</c>, <c>Methods</c>,
/// <c>Blobs</c>, <c>RvaFields</c>, <c>FrozenObjects</c>, <c>ManifestResources</c>, …) list, as IL, one
/// <c>ldtoken</c> (or <c>ldstr</c> for named blobs and resources) per item followed by <c>ldc.i4</c> numbers. The
/// first number is the item's size in bytes; a method adds its GC info and EH info (the next two); the trailing
/// numbers (node ids, resource owners) are not sizes. Each item is charged to the assembly and namespace of the type
/// its token names (an instantiation to its generic definition, a member to its declaring type).
/// </summary>
internal sealed class MstatFile
{
    private MstatFile(List<MstatItem> items) => Items = items;

    /// <summary>Every sized item.</summary>
    public IReadOnlyList<MstatItem> Items { get; }

    /// <summary>Reads <paramref name="path"/>.</summary>
    public static MstatFile Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var owners = new TokenOwners(metadata);
        var items = new List<MstatItem>();
        var global = metadata.GetTypeDefinition(MetadataTokens.TypeDefinitionHandle(1));
        foreach (var handle in global.GetMethods())
        {
            var method = metadata.GetMethodDefinition(handle);
            if (method.RelativeVirtualAddress != 0)
            {
                ReadSection(metadata.GetString(method.Name), pe.GetMethodBody(method.RelativeVirtualAddress).GetILReader(), metadata, owners, items);
            }
        }

        return new MstatFile(items);
    }

    private static void ReadSection(string section, BlobReader il, MetadataReader metadata, TokenOwners owners, List<MstatItem> items)
    {
        (string Assembly, string Namespace, string Type)? owner = null;
        var name = string.Empty;
        var numbers = new List<long>();
        void Flush()
        {
            if (owner is { } o)
            {
                items.Add(new MstatItem(section, o.Assembly, o.Namespace, o.Type, name, SizeOf(section, numbers)));
            }

            owner = null;
            numbers.Clear();
        }

        while (il.RemainingBytes > 0)
        {
            var opcode = il.ReadByte();
            switch (opcode)
            {
                case 0xD0: // ldtoken
                    Flush();
                    var token = MetadataTokens.EntityHandle(il.ReadInt32());
                    owner = owners.Of(token);
                    name = owners.NameOf(token);
                    break;
                case 0x72: // ldstr: a named blob or resource
                    Flush();
                    name = metadata.GetUserString(MetadataTokens.UserStringHandle(il.ReadInt32()));
                    owner = ("[" + section + "]", "[" + section + "]", name);
                    break;
                case 0x20: // ldc.i4
                    numbers.Add(il.ReadInt32());
                    break;
                case 0x1F: // ldc.i4.s
                    numbers.Add(il.ReadSByte());
                    break;
                case >= 0x15 and <= 0x1E: // ldc.i4.m1 .. ldc.i4.8
                    numbers.Add(opcode - 0x16);
                    break;
                case 0x00 or 0x26 or 0x2A: // nop, pop, ret
                    break;
                default:
                    throw new InvalidDataException($"unexpected IL opcode 0x{opcode:X2} in the mstat section {section}");
            }
        }

        Flush();
    }

    private static long SizeOf(string section, List<long> numbers) => section switch
    {
        "Methods" => numbers.Take(3).Sum(), // code, GC info, EH info
        "ManifestResources" => numbers.Where(n => n < 0x20000000).Take(1).Sum(), // skips the owning assembly's token
        "DeduplicatedMethods" => 0, // folded into another body: no bytes of their own
        _ => numbers.Take(1).Sum(),
    };
}
