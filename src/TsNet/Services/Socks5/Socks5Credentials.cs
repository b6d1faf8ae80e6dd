using System.Security.Cryptography;
using System.Text;

namespace TsNet.Services.Socks5;

/// <summary>
/// The proxy's RFC 1929 credentials, checked in constant time: both offered values are hashed to fixed-size digests and
/// compared with <see cref="CryptographicOperations.FixedTimeEquals"/>, so neither the length nor the first differing
/// byte leaks through timing.
/// </summary>
internal sealed class Socks5Credentials
{
    private readonly byte[] _usernameHash;
    private readonly byte[] _passwordHash;

    public Socks5Credentials(string username, string password)
    {
        _usernameHash = SHA256.HashData(Encoding.UTF8.GetBytes(username));
        _passwordHash = SHA256.HashData(Encoding.UTF8.GetBytes(password));
    }

    public bool Matches(ReadOnlySpan<byte> username, ReadOnlySpan<byte> password)
    {
        Span<byte> offered = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(username, offered);
        var usernameOk = CryptographicOperations.FixedTimeEquals(offered, _usernameHash);
        SHA256.HashData(password, offered);
        var passwordOk = CryptographicOperations.FixedTimeEquals(offered, _passwordHash);
        return usernameOk & passwordOk; // no short circuit: both comparisons always run
    }
}
