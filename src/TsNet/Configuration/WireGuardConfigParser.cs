using System.Buffers;
using System.Globalization;
using System.Net;

namespace TsNet.Configuration;

/// <summary>
/// Reads wg-quick configuration files into <see cref="TailnetServerOptions"/>. Follows wg-quick's syntax: sections
/// <c>[Interface]</c> and <c>[Peer]</c>, <c>Key = Value</c> lines with case-insensitive keys, <c>#</c> comments anywhere.
/// A whole-line comment <c># Name = db</c> inside a peer section names the peer (wg-quick ignores it, so files stay
/// compatible). Settings that only make sense for a kernel interface (DNS, Table, hooks, ...) are reported as warnings.
/// </summary>
internal sealed class WireGuardConfigParser
{
    private const string KnownInterfaceKeys = "PrivateKey, Address, ListenPort, MTU, DNS, Table, PreUp, PostUp, PreDown, PostDown, SaveConfig, FwMark";
    private const string KnownPeerKeys = "PublicKey, PresharedKey, Endpoint, AllowedIPs, PersistentKeepalive";

    /// <summary>wg-quick keys TsNet reads but does not act on, with why: a userspace node has no interface to configure.</summary>
    private static readonly Dictionary<string, string> s_ignoredInterfaceKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["DNS"] = "TsNet does not change the host's resolver; dial names resolve only to configured peer names",
        ["Table"] = "TsNet routes inside the process by AllowedIPs, not through the host's routing tables",
        ["PreUp"] = "TsNet never runs commands from a configuration file",
        ["PostUp"] = "TsNet never runs commands from a configuration file",
        ["PreDown"] = "TsNet never runs commands from a configuration file",
        ["PostDown"] = "TsNet never runs commands from a configuration file",
        ["SaveConfig"] = "TsNet never writes the configuration file",
        ["FwMark"] = "TsNet's UDP socket is an ordinary unprivileged socket and is not marked",
    };

    private readonly string? _fileName;
    private readonly Action<string>? _onWarning;
    private readonly TailnetServerOptions _options = new();
    private readonly Dictionary<string, int> _keysInSection = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<WireGuardKey, int> _peerKeyLines = new();
    private readonly Dictionary<string, int> _peerNameLines = new(StringComparer.OrdinalIgnoreCase);
    private Section _section;
    private int _lineNumber;
    private int _interfaceLine;
    private int _privateKeyLine;
    private PeerDraft? _peer;

    private WireGuardConfigParser(string? fileName, Action<string>? onWarning)
    {
        _fileName = fileName;
        _onWarning = onWarning;
    }

    private enum Section
    {
        None,
        Interface,
        Peer,
    }

    /// <summary>Parses <paramref name="text"/>; <paramref name="fileName"/> (if any) goes into messages.</summary>
    /// <exception cref="WireGuardConfigException">The text is not a valid configuration.</exception>
    public static TailnetServerOptions Parse(string text, string? fileName, Action<string>? onWarning)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new WireGuardConfigParser(fileName, onWarning);
        using var reader = new StringReader(text);
        while (reader.ReadLine() is { } line)
        {
            parser._lineNumber++;
            parser.ReadLine(parser._lineNumber == 1 ? line.TrimStart('\uFEFF') : line);
        }

        return parser.Finish();
    }

    private void ReadLine(string line)
    {
        var hash = line.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0)
        {
            if (string.IsNullOrWhiteSpace(line[..hash]))
            {
                ReadComment(line[(hash + 1)..]);
                return;
            }

            line = line[..hash];
        }

        var trimmed = line.Trim();
        if (trimmed.Length == 0)
        {
            return;
        }

        if (trimmed[0] == '[')
        {
            ReadSectionHeader(trimmed);
            return;
        }

        var equals = trimmed.IndexOf('=', StringComparison.Ordinal);
        if (equals < 0)
        {
            throw Error("expected 'Key = Value' or a section header such as [Peer]");
        }

        var key = trimmed[..equals].Trim();
        var value = trimmed[(equals + 1)..].Trim();
        if (key.Length == 0)
        {
            throw Error("there is no key before '='");
        }

        if (!IsAsciiLettersAndDigits(key))
        {
            // Not echoed: a malformed line may hold a key (a base64 secret ends in '=').
            throw Error("expected 'Key = Value' (the key is not a single word)");
        }

        switch (_section)
        {
            case Section.Interface:
                ReadInterfaceKey(key, value);
                break;
            case Section.Peer:
                ReadPeerKey(key, value);
                break;
            default:
                throw Error($"{key} is outside a section (put it under [Interface] or [Peer])");
        }
    }

    private void ReadComment(string comment)
    {
        // Only "# Name = value" inside a [Peer] section means something; every other comment is just a comment.
        var equals = comment.IndexOf('=', StringComparison.Ordinal);
        if (_peer is null || equals < 0 || !comment[..equals].Trim().Equals("Name", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var value = comment[(equals + 1)..];
        var innerHash = value.IndexOf('#', StringComparison.Ordinal);
        var name = (innerHash < 0 ? value : value[..innerHash]).Trim();
        if (!DnsName.IsValid(name) || AddressText.TryParseAddress(name, out _))
        {
            throw Error($"peer name '{name}' is not a host name (letters, digits and inner hyphens, labels joined by dots)");
        }

        if (_peer.NameLine != 0)
        {
            throw Error($"the peer already has a name on line {_peer.NameLine}");
        }

        if (_peerNameLines.TryGetValue(name, out var other))
        {
            throw Error($"peer name '{name}' is already used by the peer named on line {other}");
        }

        _peerNameLines[name] = _lineNumber;
        _peer.NameLine = _lineNumber;
        _peer.Peer.Name = name;
    }

    private void ReadSectionHeader(string header)
    {
        if (header[^1] != ']')
        {
            throw Error($"section header '{header}' has no closing ']'");
        }

        var name = header[1..^1].Trim();
        FinishPeer();
        _keysInSection.Clear();
        if (name.Equals("Interface", StringComparison.OrdinalIgnoreCase))
        {
            if (_interfaceLine != 0)
            {
                throw Error($"a second [Interface] section (the first is on line {_interfaceLine})");
            }

            _interfaceLine = _lineNumber;
            _section = Section.Interface;
        }
        else if (name.Equals("Peer", StringComparison.OrdinalIgnoreCase))
        {
            _peer = new PeerDraft(_lineNumber);
            _section = Section.Peer;
        }
        else
        {
            throw Error($"unknown section [{name}] (expected [Interface] or [Peer])");
        }
    }

    private void ReadInterfaceKey(string key, string value)
    {
        switch (key.ToUpperInvariant())
        {
            case "PRIVATEKEY":
                Once("PrivateKey");
                _options.PrivateKey = ParseKey("PrivateKey", value);
                _privateKeyLine = _lineNumber;
                break;
            case "ADDRESS":
                foreach (var entry in Entries("Address", value))
                {
                    var (address, _) = ParseAddress(entry);
                    // The node's own address: its prefix only matters for kernel routes, which a userspace node
                    // does not have (packets go to the peer whose AllowedIPs match), so keep the host address.
                    var host = new IPNetwork(address, AddressText.MaxPrefix(address));
                    if (_options.Addresses.Contains(host))
                    {
                        throw Error($"Address {address} is listed twice");
                    }

                    _options.Addresses.Add(host);
                }

                break;
            case "LISTENPORT":
                Once("ListenPort");
                _options.ListenPort = ParseNumber("ListenPort", value, 0, 65535, "a port (0-65535)");
                break;
            case "MTU":
                Once("MTU");
                _options.Mtu = ParseNumber("MTU", value, OptionsValidation.MinMtu, OptionsValidation.MaxMtu, $"an MTU ({OptionsValidation.MinMtu}-{OptionsValidation.MaxMtu})");
                break;
            default:
                if (s_ignoredInterfaceKeys.TryGetValue(key, out var why))
                {
                    _onWarning?.Invoke(WireGuardConfigException.Location(_fileName, _lineNumber) + $"{key} is ignored: {why}");
                    break;
                }

                throw Error($"unknown key '{key}' in [Interface] (known: {KnownInterfaceKeys})");
        }
    }

    private void ReadPeerKey(string key, string value)
    {
        var peer = _peer!;
        switch (key.ToUpperInvariant())
        {
            case "PUBLICKEY":
                Once("PublicKey");
                var publicKey = ParseKey("PublicKey", value);
                if (_peerKeyLines.TryGetValue(publicKey, out var other))
                {
                    throw Error($"duplicate peer: PublicKey {publicKey} is already used on line {other}");
                }

                _peerKeyLines[publicKey] = _lineNumber;
                peer.Peer.PublicKey = publicKey;
                peer.PublicKeyLine = _lineNumber;
                break;
            case "PRESHAREDKEY":
                Once("PresharedKey");
                peer.Peer.PresharedKey = ParseKey("PresharedKey", value);
                break;
            case "ENDPOINT":
                Once("Endpoint");
                if (!EndpointParser.TrySplit(value, out _, out _, out var error))
                {
                    throw Error($"Endpoint {error}");
                }

                peer.Peer.Endpoint = value;
                break;
            case "ALLOWEDIPS":
                foreach (var entry in Entries("AllowedIPs", value, allowEmpty: true))
                {
                    var (address, prefix) = ParseAddress(entry);
                    var network = AddressText.Network(address, prefix ?? AddressText.MaxPrefix(address));
                    if (!peer.Peer.AllowedIps.Contains(network))
                    {
                        peer.Peer.AllowedIps.Add(network);
                    }
                }

                break;
            case "PERSISTENTKEEPALIVE":
                Once("PersistentKeepalive");
                peer.Peer.PersistentKeepalive = value.Equals("off", StringComparison.OrdinalIgnoreCase)
                    ? null
                    : TimeSpan.FromSeconds(ParseNumber("PersistentKeepalive", value, 0, 65535, "'off' or seconds (0-65535)"));
                break;
            default:
                throw Error($"unknown key '{key}' in [Peer] (known: {KnownPeerKeys})");
        }
    }

    private TailnetServerOptions Finish()
    {
        FinishPeer();
        if (_interfaceLine == 0)
        {
            throw new WireGuardConfigException(0, "there is no [Interface] section", _fileName);
        }

        if (_privateKeyLine == 0)
        {
            throw new WireGuardConfigException(0, $"the [Interface] section (line {_interfaceLine}) has no PrivateKey", _fileName);
        }

        if (_options.Addresses.Count == 0)
        {
            throw new WireGuardConfigException(0, $"the [Interface] section (line {_interfaceLine}) has no Address", _fileName);
        }

        if (_peerKeyLines.TryGetValue(_options.PrivateKey.PublicKey, out var ownLine))
        {
            throw new WireGuardConfigException(ownLine, "this PublicKey is the interface's own public key", _fileName);
        }

        return _options;
    }

    private void FinishPeer()
    {
        if (_peer is null)
        {
            return;
        }

        if (_peer.PublicKeyLine == 0)
        {
            throw new WireGuardConfigException(_peer.HeaderLine, "this [Peer] has no PublicKey", _fileName);
        }

        _options.Peers.Add(_peer.Peer);
        _peer = null;
    }

    /// <summary>Rejects a second occurrence of a key that may appear once per section.</summary>
    private void Once(string key)
    {
        if (_keysInSection.TryGetValue(key, out var first))
        {
            throw Error($"{key} is already set on line {first}");
        }

        _keysInSection[key] = _lineNumber;
    }

    private WireGuardKey ParseKey(string key, string value)
    {
        // Never echo the value: it may be a secret.
        if (!WireGuardKey.TryParse(value, out var parsed))
        {
            throw Error($"{key} is not a valid key: expected 32 bytes in base64 (44 characters ending in '=', as `wg genkey` prints)");
        }

        if (parsed.IsEmpty)
        {
            throw Error($"{key} is all zeros");
        }

        return parsed;
    }

    private (IPAddress Address, int? Prefix) ParseAddress(string entry)
    {
        if (!AddressText.TryParse(entry, out var address, out var prefix, out var error))
        {
            throw Error(error!);
        }

        return (address, prefix);
    }

    private int ParseNumber(string key, string value, int min, int max, string expected)
    {
        if (value.Length > 6 || !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < min || number > max)
        {
            throw Error($"{key} '{value}' is not {expected}");
        }

        return number;
    }

    private IEnumerable<string> Entries(string key, string value, bool allowEmpty = false)
    {
        if (value.Length == 0)
        {
            if (!allowEmpty)
            {
                throw Error($"{key} has no value");
            }

            yield break;
        }

        foreach (var entry in value.Split(','))
        {
            var trimmed = entry.Trim();
            if (trimmed.Length == 0)
            {
                throw Error($"{key} has an empty entry (two commas or a trailing comma)");
            }

            yield return trimmed;
        }
    }

    private WireGuardConfigException Error(string reason) => new(_lineNumber, reason, _fileName);

    /// <summary>A peer section being read, with the lines that later checks point at.</summary>
    private sealed class PeerDraft(int headerLine)
    {
        public int HeaderLine { get; } = headerLine;

        public int PublicKeyLine { get; set; }

        public int NameLine { get; set; }

        public TailnetPeer Peer { get; } = new();
    }

    // Not LINQ's All over the string's chars: no enumerable code for char in the native tool.
    private static readonly SearchValues<char> s_keyChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

    private static bool IsAsciiLettersAndDigits(string text) => !text.AsSpan().ContainsAnyExcept(s_keyChars);
}
