using System.Text;

namespace TsNet.Tests.Crypto;

/// <summary>RFC 8439 §2.8.2 AEAD test vector (also the input of XChaCha20-Poly1305 draft App. A.3.1).</summary>
internal static class Rfc8439Vector
{
    public static readonly byte[] Key = Hex.Range(0x80, 0x9f);

    public static readonly byte[] Nonce = Hex.Decode("070000004041424344454647");

    public static readonly byte[] AssociatedData = Hex.Decode("50515253c0c1c2c3c4c5c6c7");

    public static readonly byte[] Plaintext = Encoding.ASCII.GetBytes(
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");

    public static readonly byte[] Ciphertext = Hex.Decode(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
        + "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
        + "3ff4def08e4b7a9de576d26586cec64b6116");

    public static readonly byte[] Tag = Hex.Decode("1ae10b594f09e26a7e902ecbd0600691");
}
