namespace TsNet.Tool.Cli;

/// <summary>The standard streams a command uses; the real console in <c>Program</c>, in-memory writers in tests.</summary>
/// <param name="In">Standard input (pubkey reads a key from it).</param>
/// <param name="Out">Standard output: results and the <c>ready</c> line, nothing else.</param>
/// <param name="Error">Standard error: usage, errors and logs.</param>
internal sealed record CliConsole(TextReader In, TextWriter Out, TextWriter Error);
