using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace TsNet.Filter;

/// <summary>
/// <c>FilterRule</c> JSON (protocol doc §9.5) to <see cref="CompiledFilterRule"/>s. Field names match
/// case-insensitively and unknown fields are ignored, as Go's decoder does. <c>SrcIPs</c> and <c>DstPorts[].IP</c>
/// take an address, a CIDR prefix (host bits masked off), a range <c>a-b</c> or <c>*</c> (both families);
/// <c>cap:</c> sources and <c>CapGrant</c> concern application capabilities, not packets, and are skipped. An empty
/// or absent <c>IPProto</c> means TCP, UDP, ICMPv4 and ICMPv6; numbers outside 0–255 are ignored.
/// </summary>
internal static class FilterRuleParser
{
    private static readonly byte[] s_defaultProtocols =
        [PacketSummary.ProtocolTcp, PacketSummary.ProtocolUdp, PacketSummary.ProtocolIcmpV4, PacketSummary.ProtocolIcmpV6];

    private static readonly UInt128 s_v4Max = uint.MaxValue;

    public static List<CompiledFilterRule> Parse(ReadOnlySpan<byte> utf8Json)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(utf8Json);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new FormatException("PacketFilter is not valid JSON: " + ex.Message, ex);
        }

        using (document)
        {
            return Parse(document.RootElement);
        }
    }

    public static List<CompiledFilterRule> Parse(JsonElement rules)
    {
        if (rules.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"PacketFilter: expected a JSON array of rules, found {rules.ValueKind}");
        }

        var compiled = new List<CompiledFilterRule>(rules.GetArrayLength());
        var index = 0;
        foreach (var rule in rules.EnumerateArray())
        {
            compiled.Add(ParseRule(rule, $"PacketFilter[{index}]"));
            index++;
        }

        return compiled;
    }

    private static CompiledFilterRule ParseRule(JsonElement rule, string path)
    {
        if (rule.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{path}: expected a rule object, found {rule.ValueKind}");
        }

        JsonElement? srcIps = null, srcBits = null, dstPorts = null, ipProto = null;
        foreach (var property in rule.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (Is(property, "SrcIPs"))
            {
                srcIps = property.Value;
            }
            else if (Is(property, "SrcBits"))
            {
                srcBits = property.Value;
            }
            else if (Is(property, "DstPorts"))
            {
                dstPorts = property.Value;
            }
            else if (Is(property, "IPProto"))
            {
                ipProto = property.Value;
            }
        }

        var sourcesV4 = new List<AddressRange>();
        var sourcesV6 = new List<AddressRange>();
        if (srcIps is { } sources)
        {
            RequireArray(sources, path + ".SrcIPs");
            var i = 0;
            foreach (var source in sources.EnumerateArray())
            {
                var itemPath = $"{path}.SrcIPs[{i}]";
                var text = source.ValueKind == JsonValueKind.String
                    ? source.GetString()!
                    : throw new FormatException($"{itemPath}: expected a string, found {source.ValueKind}");
                if (!text.StartsWith("cap:", StringComparison.Ordinal))
                {
                    AddAddresses(text, LegacyBits(srcBits, i, path), itemPath, sourcesV4, sourcesV6);
                }

                i++;
            }
        }

        var destinationsV4 = new List<DestinationPorts>();
        var destinationsV6 = new List<DestinationPorts>();
        if (dstPorts is { } destinations)
        {
            RequireArray(destinations, path + ".DstPorts");
            var i = 0;
            foreach (var destination in destinations.EnumerateArray())
            {
                ParseDestination(destination, $"{path}.DstPorts[{i}]", destinationsV4, destinationsV6);
                i++;
            }
        }

        return new CompiledFilterRule(
            ParseProtocols(ipProto, path + ".IPProto"),
            AddressRange.Normalize(sourcesV4),
            AddressRange.Normalize(sourcesV6),
            [.. destinationsV4],
            [.. destinationsV6]);
    }

    private static void ParseDestination(JsonElement destination, string path, List<DestinationPorts> v4, List<DestinationPorts> v6)
    {
        if (destination.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{path}: expected an object, found {destination.ValueKind}");
        }

        string? ip = null;
        int? bits = null;
        ushort first = 0, last = 0;
        var hasPorts = false;
        foreach (var property in destination.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (Is(property, "IP"))
            {
                ip = property.Value.ValueKind == JsonValueKind.String
                    ? property.Value.GetString()
                    : throw new FormatException($"{path}.IP: expected a string, found {property.Value.ValueKind}");
            }
            else if (Is(property, "Bits"))
            {
                bits = ReadInt(property.Value, path + ".Bits");
            }
            else if (Is(property, "Ports"))
            {
                (first, last) = ParsePortRange(property.Value, path + ".Ports");
                hasPorts = true;
            }
        }

        if (ip is null)
        {
            throw new FormatException($"{path}: IP is missing");
        }

        if (!hasPorts)
        {
            throw new FormatException($"{path}: Ports is missing");
        }

        var rangesV4 = new List<AddressRange>();
        var rangesV6 = new List<AddressRange>();
        AddAddresses(ip, bits, path + ".IP", rangesV4, rangesV6);
        foreach (var range in rangesV4)
        {
            v4.Add(new DestinationPorts(range, first, last));
        }

        foreach (var range in rangesV6)
        {
            v6.Add(new DestinationPorts(range, first, last));
        }
    }

    private static (ushort First, ushort Last) ParsePortRange(JsonElement ports, string path)
    {
        if (ports.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{path}: expected {{\"First\":n,\"Last\":n}}, found {ports.ValueKind}");
        }

        int first = 0, last = 0;
        foreach (var property in ports.EnumerateObject())
        {
            if (Is(property, "First"))
            {
                first = ReadInt(property.Value, path + ".First");
            }
            else if (Is(property, "Last"))
            {
                last = ReadInt(property.Value, path + ".Last");
            }
        }

        if (first is < 0 or > ushort.MaxValue || last is < 0 or > ushort.MaxValue)
        {
            throw new FormatException($"{path}: ports must be 0–65535, found {first}–{last}");
        }

        if (first > last)
        {
            throw new FormatException($"{path}: First {first} is above Last {last}");
        }

        return ((ushort)first, (ushort)last);
    }

    private static ulong[] ParseProtocols(JsonElement? ipProto, string path)
    {
        var set = new ulong[4];
        var any = false;
        if (ipProto is { } list)
        {
            RequireArray(list, path);
            var i = 0;
            foreach (var item in list.EnumerateArray())
            {
                var protocol = item.ValueKind == JsonValueKind.Number && item.TryGetInt64(out var value)
                    ? value
                    : throw new FormatException($"{path}[{i}]: expected an integer protocol number, found {item.ValueKind} {item.GetRawText()}");
                if (protocol is >= 0 and <= 255)
                {
                    set[protocol >> 6] |= 1UL << (int)(protocol & 63);
                    any = true;
                }

                i++;
            }
        }

        if (!any)
        {
            foreach (var protocol in s_defaultProtocols)
            {
                set[protocol >> 6] |= 1UL << (protocol & 63);
            }
        }

        return set;
    }

    /// <summary>The deprecated <c>SrcBits</c>: a prefix length per <c>SrcIPs</c> entry, applied to single addresses.</summary>
    private static int? LegacyBits(JsonElement? srcBits, int index, string path) =>
        srcBits is { ValueKind: JsonValueKind.Array } bits && index < bits.GetArrayLength()
            ? ReadInt(bits[index], $"{path}.SrcBits[{index}]")
            : null;

    private static void AddAddresses(string text, int? bits, string path, List<AddressRange> v4, List<AddressRange> v6)
    {
        if (text == "*")
        {
            v4.Add(new AddressRange(0, s_v4Max));
            v6.Add(new AddressRange(0, UInt128.MaxValue));
            return;
        }

        var slash = text.IndexOf('/');
        if (slash >= 0)
        {
            if (!TryParseAddress(text.AsSpan(0, slash), out var address, out var isV6)
                || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                throw Invalid(text, path);
            }

            AddPrefix(address, isV6, length, text, path, v4, v6);
            return;
        }

        var dash = text.IndexOf('-');
        if (dash >= 0)
        {
            if (!TryParseAddress(text.AsSpan(0, dash), out var first, out var firstV6)
                || !TryParseAddress(text.AsSpan(dash + 1), out var last, out var lastV6)
                || firstV6 != lastV6)
            {
                throw Invalid(text, path);
            }

            if (first > last)
            {
                throw new FormatException($"{path}: range \"{text}\" ends below its start");
            }

            (firstV6 ? v6 : v4).Add(new AddressRange(first, last));
            return;
        }

        if (!TryParseAddress(text, out var single, out var singleV6))
        {
            throw Invalid(text, path);
        }

        if (bits is { } legacyLength)
        {
            AddPrefix(single, singleV6, legacyLength, text, path, v4, v6);
        }
        else
        {
            (singleV6 ? v6 : v4).Add(new AddressRange(single, single));
        }
    }

    private static void AddPrefix(UInt128 address, bool isV6, int length, string text, string path, List<AddressRange> v4, List<AddressRange> v6)
    {
        var width = isV6 ? 128 : 32;
        if (length < 0 || length > width)
        {
            throw new FormatException($"{path}: prefix length {length} of \"{text}\" is out of range 0–{width}");
        }

        var hostBits = width - length;
        var hostMask = hostBits == 0 ? UInt128.Zero : hostBits == 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1;
        var first = address & ~hostMask;
        (isV6 ? v6 : v4).Add(new AddressRange(first, first | hostMask));
    }

    /// <summary>
    /// A literal address only: dotted-quad IPv4 (not .NET's shorthand numeric forms) or IPv6 without a zone.
    /// </summary>
    private static bool TryParseAddress(ReadOnlySpan<char> text, out UInt128 value, out bool isV6)
    {
        value = 0;
        isV6 = false;
        if (text.IsEmpty || text.Contains('%') || (!text.Contains(':') && text.Count('.') != 3) || !IPAddress.TryParse(text, out var address))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        isV6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        value = isV6
            ? System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes)
            : System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes[..written]);
        return true;
    }

    private static int ReadInt(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw new FormatException($"{path}: expected an integer, found {value.ValueKind} {value.GetRawText()}");

    private static void RequireArray(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{path}: expected an array, found {value.ValueKind}");
        }
    }

    private static bool Is(JsonProperty property, string name) => property.NameEquals(name) || string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase);

    private static FormatException Invalid(string text, string path) =>
        new($"{path}: \"{text}\" is not an IP address, CIDR prefix, range a-b or *");
}
