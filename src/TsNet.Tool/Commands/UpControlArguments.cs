using System.Buffers;
using System.Net;
using System.Text;
using TsNet.Tool.Cli;

namespace TsNet.Tool.Commands;

/// <summary>
/// The control-mode flags of <c>tsnet up</c> (<c>--login-server</c> and what goes with it): their help lines and their
/// validation into <see cref="UpControlSettings"/>. Every mistake is a <see cref="UsageException"/> of one line (exit 2).
/// </summary>
internal static class UpControlArguments
{
    /// <summary>The flag that switches <c>tsnet up</c> to control mode.</summary>
    public const string LoginServer = "--login-server";

    /// <summary>Longest DNS label (RFC 1035): the host name is the first label of the node's DNS name.</summary>
    private const int MaxHostnameLength = 63;

    /// <summary>The options, in the order the help lists them.</summary>
    public static IReadOnlyList<OptionSpec> Options { get; } =
    [
        new(LoginServer, "URL", "join the tailnet of this coordination server (Tailscale: https://controlplane.tailscale.com, Headscale, ...) instead of --config"),
        new("--authkey", "KEY", "auth key to register with (file:PATH reads it from a file); default: $TS_AUTHKEY, else interactive login ('login url=' on stdout)"),
        new("--hostname", "NAME", "the node's name on the tailnet; default: this machine's host name"),
        new("--state", "DIR", "directory where the node keeps its keys and login, to come back as itself (required unless --ephemeral)"),
        new("--ephemeral", null, "register as an ephemeral node: the server removes it soon after it stops"),
        new("--advertise-tags", "tag:a,tag:b", "ACL tags to ask for"),
        new("--advertise-routes", "CIDR,CIDR", "subnet routes to offer the tailnet (e.g. 192.168.1.0/24)"),
        new("--accept-routes", null, "use the subnet routes other nodes offer"),
    ];

    /// <summary>Flags that mean something only with <see cref="LoginServer"/>.</summary>
    private static IEnumerable<string> ControlOnly => Options.Select(o => o.Name).Where(n => n != LoginServer);

    /// <summary>
    /// Validates the control flags: null when <c>--login-server</c> is absent (static mode; then no other control flag
    /// may be given either).
    /// </summary>
    /// <exception cref="UsageException">A flag is missing, misplaced or malformed.</exception>
    public static UpControlSettings? Validate(ParsedArguments args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Value(LoginServer) is not { } serverText)
        {
            if (ControlOnly.FirstOrDefault(args.Has) is { } stray)
            {
                throw new UsageException($"{stray} needs {LoginServer} URL (it configures joining a tailnet; a --config node has its peers in the file)");
            }

            return null;
        }

        if (args.Has("--config"))
        {
            throw new UsageException($"--config and {LoginServer} exclude each other: a node takes its peers either from a wg-quick file or from a coordination server");
        }

        var server = ParseLoginServer(serverText);
        var ephemeral = args.Has("--ephemeral");
        var state = args.Value("--state");
        if (state is null && !ephemeral)
        {
            throw new UsageException($"{LoginServer} needs --state DIR (where the node keeps its keys, so that it comes back as the same node) or --ephemeral (a throw-away node)");
        }

        return new UpControlSettings(
            server,
            args.Value("--authkey") is { } key ? ReadAuthKey(key) : null,
            args.Value("--hostname") is { } hostname ? ValidateHostname(hostname) : null,
            state,
            ephemeral,
            args.Value("--advertise-tags") is { } tags ? ParseTags(tags) : [],
            args.Value("--advertise-routes") is { } routes ? ParseRoutes(routes) : [],
            args.Has("--accept-routes"));
    }

    /// <summary>An absolute http or https URL.</summary>
    /// <exception cref="UsageException">Anything else.</exception>
    public static Uri ParseLoginServer(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.Host.Length == 0)
        {
            throw new UsageException($"{LoginServer} {text}: expected an http:// or https:// URL, e.g. https://controlplane.tailscale.com");
        }

        return url;
    }

    /// <summary>The auth key itself, or for <c>file:PATH</c> the first line of that file (keeps the key out of <c>ps</c>).</summary>
    /// <exception cref="UsageException">The key is blank, or its file cannot be read or is empty.</exception>
    public static string ReadAuthKey(string text)
    {
        var key = text;
        if (text.StartsWith("file:", StringComparison.Ordinal))
        {
            var path = text["file:".Length..];
            if (path.Length == 0)
            {
                throw new UsageException($"--authkey {text}: expected file:PATH, a file holding the key");
            }

            try
            {
                key = File.ReadLines(path).FirstOrDefault() ?? string.Empty;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new UsageException($"--authkey {text}: {e.Message}");
            }
        }

        key = key.Trim();
        if (key.Length == 0)
        {
            throw new UsageException($"--authkey {text}: the key is empty");
        }

        return key;
    }

    // Not LINQ's All over the string's chars: no enumerable code for char in the native tool.
    private static readonly SearchValues<char> s_labelChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");

    private static bool IsLettersDigitsAndDashes(string text) => !text.AsSpan().ContainsAnyExcept(s_labelChars);

    /// <summary>A DNS label: 1–63 letters, digits and '-', neither first nor last a '-'.</summary>
    /// <exception cref="UsageException">Anything else.</exception>
    public static string ValidateHostname(string text)
    {
        var valid = text.Length is > 0 and <= MaxHostnameLength
            && IsLettersDigitsAndDashes(text)
            && text[0] != '-' && text[^1] != '-';
        if (!valid)
        {
            throw new UsageException($"--hostname {text}: expected a DNS label: 1-{MaxHostnameLength} letters, digits and '-' (not first or last), e.g. web-1");
        }

        return text;
    }

    /// <summary>
    /// Comma-separated ACL tags, each <c>tag:</c> and a name of ASCII letters, digits and '-' starting with a letter
    /// (the form Tailscale's control servers accept); duplicates are dropped.
    /// </summary>
    /// <exception cref="UsageException">A tag has another form, or the list holds an empty entry.</exception>
    public static IReadOnlyList<string> ParseTags(string text)
    {
        var tags = new List<string>();
        foreach (var tag in text.Split(','))
        {
            var name = tag.StartsWith("tag:", StringComparison.Ordinal) ? tag["tag:".Length..] : string.Empty;
            if (name.Length == 0 || !char.IsAsciiLetter(name[0]) || !IsLettersDigitsAndDashes(name))
            {
                throw new UsageException($"--advertise-tags {text}: '{tag}' is not a tag: expected 'tag:' and a name of letters, digits and '-' starting with a letter, e.g. tag:web");
            }

            if (!tags.Contains(tag, StringComparer.Ordinal))
            {
                tags.Add(tag);
            }
        }

        return tags;
    }

    /// <summary>Comma-separated CIDR prefixes with no host bits set (<c>192.168.1.0/24</c>, <c>fd00::/64</c>); duplicates are dropped.</summary>
    /// <exception cref="UsageException">An entry is no prefix, or has host bits set (the message names the prefix meant).</exception>
    public static IReadOnlyList<IPNetwork> ParseRoutes(string text)
    {
        var routes = new List<IPNetwork>();
        foreach (var entry in text.Split(','))
        {
            if (TryParsePrefix(entry) is not { } parsed)
            {
                throw new UsageException($"--advertise-routes {text}: '{entry}': expected a CIDR prefix such as 192.168.1.0/24 or fd00::/64");
            }

            // A route is a network: "10.0.0.1/24" is almost always a typo for 10.0.0.0/24 or 10.0.0.1/32; say which.
            var route = new IPNetwork(Masked(parsed.Address, parsed.Length), parsed.Length);
            if (!route.BaseAddress.Equals(parsed.Address))
            {
                throw new UsageException($"--advertise-routes {text}: '{entry}': host bits are set; did you mean {route}?");
            }

            if (!routes.Contains(route))
            {
                routes.Add(route);
            }
        }

        return routes;
    }

    /// <summary>Sanitises a machine name into a host name: lower case, other characters as '-', at most 63; <c>tsnet</c> when nothing is left.</summary>
    public static string SanitizeHostname(string name)
    {
        var label = new StringBuilder(name.Length);
        foreach (var c in name.Split('.')[0].ToLowerInvariant())
        {
            label.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        }

        var text = label.ToString();
        text = text[..Math.Min(text.Length, MaxHostnameLength)].Trim('-');
        return text.Length == 0 ? "tsnet" : text;
    }

    /// <summary>An <c>ADDRESS/LENGTH</c> pair with a length that fits the address family; null otherwise.</summary>
    private static (IPAddress Address, int Length)? TryParsePrefix(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out var address) || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && address.ScopeId != 0)
            || !int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length)
            || length > (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
        {
            return null;
        }

        return (address, length);
    }

    /// <summary><paramref name="address"/> with every bit after the first <paramref name="length"/> cleared.</summary>
    private static IPAddress Masked(IPAddress address, int length)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(length - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }
}
