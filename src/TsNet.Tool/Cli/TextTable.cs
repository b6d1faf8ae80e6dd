using System.Text;

namespace TsNet.Tool.Cli;

/// <summary>Plain-text table: a header row and rows, columns padded to their widest cell, two spaces apart.</summary>
internal static class TextTable
{
    /// <summary>Formats <paramref name="headers"/> and <paramref name="rows"/> as lines (trailing spaces trimmed).</summary>
    public static string Format(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = new List<IReadOnlyList<string>> { headers };
        all.AddRange(rows);
        var widths = new int[headers.Count];
        foreach (var row in all)
        {
            for (var i = 0; i < widths.Length && i < row.Count; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        var text = new StringBuilder();
        foreach (var row in all)
        {
            var line = new StringBuilder();
            for (var i = 0; i < widths.Length; i++)
            {
                line.Append((i < row.Count ? row[i] : string.Empty).PadRight(widths[i]));
                if (i < widths.Length - 1)
                {
                    line.Append("  ");
                }
            }

            text.Append(line.ToString().TrimEnd()).Append('\n');
        }

        return text.ToString();
    }
}
