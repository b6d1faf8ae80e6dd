using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;
using Microsoft.Extensions.Primitives;

namespace TsNet.Tool.Http;

/// <summary>
/// The directory <c>--www</c> serves, as static files see it: a <see cref="PhysicalFileProvider"/> (which already
/// keeps paths inside the root) that also hides a file reached through a symbolic link — the file itself or a
/// directory on its way — whose final target lies outside the root. Files of every name are served, dot files too,
/// as the hand-written server did.
/// </summary>
internal sealed class WwwFileProvider : IFileProvider, IDisposable
{
    private readonly PhysicalFileProvider _inner;
    private readonly string _root;

    /// <summary>Serves <paramref name="directory"/> (made absolute).</summary>
    public WwwFileProvider(string directory)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        _inner = new PhysicalFileProvider(_root, ExclusionFilters.None);
    }

    /// <inheritdoc/>
    public IFileInfo GetFileInfo(string subpath)
    {
        var file = _inner.GetFileInfo(subpath);
        if (!file.Exists || file.PhysicalPath is not { } path)
        {
            return file;
        }

        if (!StaysInside(path))
        {
            return new NotFoundFileInfo(subpath);
        }

        // A link's own length and date are the link's, not the file's: describe its target.
        return File.ResolveLinkTarget(path, returnFinalTarget: true) is { } target ? new PhysicalFileInfo(new FileInfo(target.FullName)) : file;
    }

    /// <summary>No directory listings.</summary>
    public IDirectoryContents GetDirectoryContents(string subpath) => NotFoundDirectoryContents.Singleton;

    /// <summary>No change notifications: files are opened per request.</summary>
    public IChangeToken Watch(string filter) => NullChangeToken.Singleton;

    /// <inheritdoc/>
    public void Dispose() => _inner.Dispose();

    // Every link from the root down to the file must resolve inside the root.
    private bool StaysInside(string path)
    {
        for (var current = path; current.Length > _root.Length; current = Path.GetDirectoryName(current)!)
        {
            var link = File.ResolveLinkTarget(current, returnFinalTarget: true);
            if (link is not null && !IsInside(Path.GetFullPath(link.FullName)))
            {
                return false;
            }
        }

        return true;
    }

    private bool IsInside(string path) => path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
