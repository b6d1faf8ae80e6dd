namespace TsNet.InteropTests.Harness;

/// <summary>Key helpers backed by the real <c>wg</c> tool (independent of TsNet's own key code).</summary>
public static class WgTools
{
    /// <summary><c>wg genkey</c>: a new private key, base64.</summary>
    public static async Task<string> GenKeyAsync(ProcessRunner runner) =>
        (await runner.RunCheckedAsync("wg", new[] { "genkey" }, TimeSpan.FromSeconds(10))).StandardOutput.Trim();

    /// <summary><c>wg pubkey</c> of a private key, base64.</summary>
    public static async Task<string> PubKeyAsync(ProcessRunner runner, string privateKey) =>
        (await runner.RunCheckedAsync("wg", new[] { "pubkey" }, TimeSpan.FromSeconds(10), privateKey + "\n")).StandardOutput.Trim();

    /// <summary><c>wg genpsk</c>: a new preshared key, base64.</summary>
    public static async Task<string> GenPskAsync(ProcessRunner runner) =>
        (await runner.RunCheckedAsync("wg", new[] { "genpsk" }, TimeSpan.FromSeconds(10))).StandardOutput.Trim();

    /// <summary>A private key and its public key, both from <c>wg</c>.</summary>
    public static async Task<(string PrivateKey, string PublicKey)> GenKeyPairAsync(ProcessRunner runner)
    {
        var privateKey = await GenKeyAsync(runner);
        return (privateKey, await PubKeyAsync(runner, privateKey));
    }
}
