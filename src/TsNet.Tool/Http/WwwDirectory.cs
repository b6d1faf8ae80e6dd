namespace TsNet.Tool.Http;

/// <summary>
/// The directory <c>--www</c> serves: maps a request path to a regular file inside it, or to nothing. A path leaving
/// the directory, naming a directory, or reaching a file through a symbolic link — the file itself or a directory on
/// its way — whose final target lies outside the root finds nothing. Files of every name are served, dot files too.
/// </summary>
internal sealed class WwwDirectory
{
    private readonly string _root;

    /// <summary>Serves <paramref name="directory"/> (made absolute).</summary>
    public WwwDirectory(string directory)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
    }

    /// <summary>
    /// The file <paramref name="requestPath"/> (unescaped, e.g. <c>/sub/a b.bin</c>) names, described by its final
    /// target when it is a link; null when there is none to serve.
    /// </summary>
    public FileInfo? Find(string requestPath)
    {
        var relative = requestPath.TrimStart('/');
        if (relative.Length == 0 || relative.EndsWith('/') || relative.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        var path = Path.GetFullPath(Path.Combine(_root, relative));
        if (!IsInside(path) || !File.Exists(path) || !StaysInside(path))
        {
            return null;
        }

        // A link's own length and date are the link's, not the file's: describe its target.
        var file = File.ResolveLinkTarget(path, returnFinalTarget: true) is { } target ? new FileInfo(target.FullName) : new FileInfo(path);
        return file.Exists ? file : null;
    }

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
