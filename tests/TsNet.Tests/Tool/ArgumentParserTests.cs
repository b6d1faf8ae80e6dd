using TsNet.Tool.Cli;

namespace TsNet.Tests.Tool;

/// <summary>The tool's own argument parser: accepted forms and every usage error.</summary>
public sealed class ArgumentParserTests
{
    private static readonly CommandSpec Spec = new(
        "test",
        "[options]",
        "a test command",
        [
            new OptionSpec("--config", "FILE", "a file"),
            new OptionSpec("--port", "PORT", "a port", Repeatable: true),
            new OptionSpec("--verbose", null, "a flag"),
        ]);

    [Fact]
    public void ValuesFlagsAndRepeats_AreParsed()
    {
        var parsed = ArgumentParser.Parse(Spec, ["--config", "wg0.conf", "--port=80", "--port", "8080", "--verbose"]);

        parsed.HelpRequested.Should().BeFalse();
        parsed.Value("--config").Should().Be("wg0.conf");
        parsed.Ports("--port").Should().Equal(80, 8080);
        parsed.Has("--verbose").Should().BeTrue();
        parsed.Has("--missing").Should().BeFalse();
        parsed.Value("--missing").Should().BeNull();
    }

    [Theory]
    [InlineData("-h")]
    [InlineData("--help")]
    public void Help_IsRecognisedAnywhere(string help)
    {
        ArgumentParser.Parse(Spec, ["--verbose", help]).HelpRequested.Should().BeTrue();
    }

    [Theory]
    [InlineData("unknown option '--nope'", "--nope")]
    [InlineData("unknown option '-x'", "-x")]
    [InlineData("unexpected argument 'extra'", "extra")]
    [InlineData("option '--config' needs a value (FILE)", "--config")]
    [InlineData("option '--config' needs a value (FILE)", "--config", "--verbose")]
    [InlineData("option '--config' needs a value (FILE)", "--config=")]
    [InlineData("option '--verbose' takes no value", "--verbose=yes")]
    [InlineData("option '--config' given more than once", "--config", "a", "--config", "b")]
    [InlineData("unknown option '--'", "--")]
    public void BadArguments_AreUsageErrorsNamingTheCulprit(string message, params string[] args)
    {
        var parse = () => ArgumentParser.Parse(Spec, args);

        parse.Should().Throw<UsageException>().WithMessage(message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-1")]
    [InlineData("http")]
    [InlineData(" 80")]
    public void NonPorts_AreUsageErrors(string text)
    {
        var parsed = ArgumentParser.Parse(Spec, ["--port", text]);

        var ports = () => parsed.Ports("--port");
        ports.Should().Throw<UsageException>().WithMessage($"--port: '{text}' is not a port number (1-65535)");
    }

    [Fact]
    public void HelpText_ListsEveryOption()
    {
        var help = Spec.HelpText;

        help.Should().StartWith("usage: tsnet test [options]\n\na test command\n");
        help.Should().Contain("--config FILE").And.Contain("--port PORT").And.Contain("(may repeat)").And.Contain("--verbose").And.Contain("-h, --help");
    }
}
