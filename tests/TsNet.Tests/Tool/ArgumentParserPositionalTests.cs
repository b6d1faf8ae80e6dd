using TsNet.Tool.Cli;

namespace TsNet.Tests.Tool;

/// <summary>The parser's positional arguments and one-dash aliases (<c>tsnet ping NAME -c N</c>).</summary>
public sealed class ArgumentParserPositionalTests
{
    private static readonly CommandSpec Spec = new(
        "ping",
        "NAME [-c N]",
        "a test command",
        [
            new OptionSpec("--count", "N", "how many") { ShortName = "-c" },
            new OptionSpec("--json", null, "a flag"),
        ])
    {
        Arguments = ["NAME|IP"],
    };

    [Theory]
    [InlineData("db", "-c", "3")]
    [InlineData("-c", "3", "db")]
    [InlineData("--count=3", "db")]
    [InlineData("db", "--count", "3")]
    public void PositionalAndShortAlias_AnyOrder(params string[] args)
    {
        var parsed = ArgumentParser.Parse(Spec, args);

        parsed.Arguments.Should().Equal("db");
        parsed.Value("--count").Should().Be("3", "the alias stores under the long name");
    }

    [Theory]
    [InlineData("missing NAME|IP")]
    [InlineData("missing NAME|IP", "-c", "3")]
    [InlineData("unexpected argument 'other'", "db", "other")]
    [InlineData("option '--count' needs a value (N)", "db", "-c")]
    [InlineData("unknown option '-x'", "db", "-x")]
    [InlineData("option '--count' given more than once", "db", "-c", "1", "--count", "2")]
    public void Mistakes_AreUsageErrors(string message, params string[] args)
    {
        var parse = () => ArgumentParser.Parse(Spec, args);

        parse.Should().Throw<UsageException>().WithMessage(message);
    }

    [Fact]
    public void Help_NeedsNoPositional()
    {
        ArgumentParser.Parse(Spec, ["--help"]).HelpRequested.Should().BeTrue();
    }

    [Fact]
    public void HelpText_ShowsTheAlias()
    {
        Spec.HelpText.Should().Contain("  -c, --count N  how many\n");
    }

    [Fact]
    public void SpecWithoutPositionals_StillRejectsThem()
    {
        var spec = new CommandSpec("up", string.Empty, "s", [new OptionSpec("--json", null, "a flag")]);

        var parse = () => ArgumentParser.Parse(spec, ["db"]);

        parse.Should().Throw<UsageException>().WithMessage("unexpected argument 'db'");
    }
}
