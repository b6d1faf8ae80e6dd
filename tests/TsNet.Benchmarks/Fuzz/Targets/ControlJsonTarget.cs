using System.Text;
using System.Text.Json;
using TsNet.Control.Protocol;
using TsNet.Control.Transport;
using TsNet.Derp;

namespace TsNet.Benchmarks.Fuzz.Targets;

/// <summary>
/// <c>controljson</c>: the small JSON answers of the control plane and DERP, each with its documented rejection: the
/// <c>/key</c> answer (<see cref="ControlKeyClient.Parse"/>, fetched before any Noise session exists, so anyone on the
/// path can answer it; <see cref="ControlTransportException"/>), the early payload
/// (<see cref="ControlEarlyPayload.Parse"/>; <see cref="ControlTransportException"/>), the register answer as
/// ControlChannel decodes it (<see cref="JsonException"/> becomes <see cref="ControlProtocolException"/>) and the DERP
/// ServerInfo JSON (<see cref="DerpServerInfo.TryParse"/>, false). Byte 0 picks which of the first three sees the
/// rest; ServerInfo sees every input.
/// </summary>
internal sealed class ControlJsonTarget : IFuzzTarget
{
    private long _accepted;

    public IReadOnlyList<byte[]> Corpus { get; } =
    [
        [0, .. """{"legacyPublicKey":"mkey:0000000000000000000000000000000000000000000000000000000000000000","publicKey":"mkey:3b1bd9ca5a1ec35bd3ee3e4e38e3c5c3f15b30e8d0c3a5c9f67dbd0aee4e0b15"}"""u8],
        [0, .. """{"PUBLICKEY":"mkey:3b1bd9ca5a1ec35bd3ee3e4e38e3c5c3f15b30e8d0c3a5c9f67dbd0aee4e0b15","extra":[1,{"a":null}]}"""u8],
        [1, .. """{"nodeKeyChallenge":"chalpub:3b1bd9ca5a1ec35bd3ee3e4e38e3c5c3f15b30e8d0c3a5c9f67dbd0aee4e0b15"}"""u8],
        [2, .. """{"User":{"ID":7326703659639870,"DisplayName":"Bogus Test","ProfilePicURL":"https://example.net/p.png"},"Login":{"ID":1,"Provider":"github","LoginName":"bogus@github","DisplayName":"Bogus"},"NodeKeyExpired":false,"MachineAuthorized":true,"AuthURL":""}"""u8],
        [2, .. """{"AuthURL":"https://login.tailscale.com/a/abc123","Error":""}"""u8],
        [3, .. """{"version":2,"TokenBucketBytesPerSecond":1048576,"TokenBucketBytesBurst":2097152}"""u8],
    ];

    public int MaxInputLength => 2048;

    public string Describe() => $"answers accepted {_accepted}";

    public void Execute(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var json = input.AsSpan(1);
        if (DerpServerInfo.TryParse(json, out _))
        {
            _accepted++;
        }

        try
        {
            switch (input[0] % 4)
            {
                case 0:
                    _ = ControlKeyClient.Parse(json);
                    break;
                case 1:
                    _ = ControlEarlyPayload.Parse(json).Json.Length;
                    break;
                case 2:
                    try
                    {
                        _ = JsonSerializer.Deserialize(json, ControlJsonContext.Default.RegisterResponse)?.NeedsLogin;
                    }
                    catch (JsonException e)
                    {
                        throw new ControlProtocolException("The register answer is not valid JSON: " + e.Message, e);
                    }

                    break;
                default:
                    _ = Encoding.UTF8.GetString(json);
                    return;
            }

            _accepted++;
        }
        catch (Exception ex) when (ex is ControlTransportException or ControlProtocolException)
        {
        }
    }
}
