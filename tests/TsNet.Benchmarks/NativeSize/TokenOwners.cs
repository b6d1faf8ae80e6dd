using System.Reflection.Metadata;

namespace TsNet.Benchmarks.NativeSize;

/// <summary>The assembly, namespace and type an mstat token is charged to (<see cref="MstatFile"/>).</summary>
internal sealed class TokenOwners(MetadataReader metadata)
{
    private const string CoreLib = "System.Private.CoreLib";

    private readonly SignatureNames _names = new();

    /// <summary>The owner of <paramref name="handle"/>.</summary>
    public (string Assembly, string Namespace, string Type) Of(EntityHandle handle)
    {
        switch (handle.Kind)
        {
            case HandleKind.TypeReference:
                var reference = metadata.GetTypeReference((TypeReferenceHandle)handle);
                var name = metadata.GetString(reference.Name);
                if (reference.ResolutionScope.Kind == HandleKind.TypeReference)
                {
                    var outer = Of((EntityHandle)reference.ResolutionScope);
                    return (outer.Assembly, outer.Namespace, outer.Type + "+" + name);
                }

                var ns = metadata.GetString(reference.Namespace);
                var assembly = reference.ResolutionScope.Kind == HandleKind.AssemblyReference
                    ? metadata.GetString(metadata.GetAssemblyReference((AssemblyReferenceHandle)reference.ResolutionScope).Name)
                    : "?";
                return (assembly, ns, ns.Length == 0 ? name : ns + "." + name);
            case HandleKind.TypeSpecification:
                var signature = metadata.GetBlobReader(metadata.GetTypeSpecification((TypeSpecificationHandle)handle).Signature);
                return OfSignature(ref signature);
            case HandleKind.MemberReference:
                return Of(metadata.GetMemberReference((MemberReferenceHandle)handle).Parent);
            case HandleKind.MethodSpecification:
                return Of(metadata.GetMethodSpecification((MethodSpecificationHandle)handle).Method);
            default:
                return ("?", "?", handle.Kind.ToString());
        }
    }

    /// <summary>
    /// The member or type <paramref name="handle"/> names, with generic arguments:
    /// <c>Dictionary`2&lt;WireGuardKey,__Canon&gt;::FindValue</c>, <c>Enumerable::Where&lt;StunTarget&gt;</c>.
    /// </summary>
    public string NameOf(EntityHandle handle)
    {
        switch (handle.Kind)
        {
            case HandleKind.TypeReference:
                return _names.GetTypeFromReference(metadata, (TypeReferenceHandle)handle, 0);
            case HandleKind.TypeSpecification:
                return metadata.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(_names, null);
            case HandleKind.MemberReference:
                var member = metadata.GetMemberReference((MemberReferenceHandle)handle);
                return NameOf(member.Parent) + "::" + metadata.GetString(member.Name);
            case HandleKind.MethodSpecification:
                var method = metadata.GetMethodSpecification((MethodSpecificationHandle)handle);
                return NameOf(method.Method) + "<" + string.Join(",", method.DecodeSignature(_names, null)) + ">";
            default:
                return handle.Kind.ToString();
        }
    }

    private (string Assembly, string Namespace, string Type) OfSignature(ref BlobReader signature)
    {
        var code = signature.ReadSignatureTypeCode();
        switch (code)
        {
            case SignatureTypeCode.GenericTypeInstance:
                signature.ReadSignatureTypeCode();
                return Of(signature.ReadTypeHandle());
            case SignatureTypeCode.TypeHandle:
                return Of(signature.ReadTypeHandle());
            case SignatureTypeCode.SZArray or SignatureTypeCode.Array or SignatureTypeCode.Pointer or SignatureTypeCode.ByReference:
                return OfSignature(ref signature);
            default:
                return (CoreLib, "System", "System." + code);
        }
    }
}
