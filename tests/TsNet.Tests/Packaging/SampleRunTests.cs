namespace TsNet.Tests.Packaging;

/// <summary>
/// The samples in TsNet.sln run as their READMEs say (two nodes in one process, no peer needed) and exit 0.
/// They run alone (with the packaging tests) so their own timers are not stretched by the parallel network tests.
/// </summary>
[Collection(PackagingCollection.Name)]
public sealed class SampleRunTests
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("HelloTailnet", "B received \"HELLO FROM B\"")]
    [InlineData("FallbackRouter", "GET http://198.18.0.42/ -> <h1>You asked for 198.18.0.42:80</h1>")]
    [InlineData("HttpOverTailnet", "POST http://web/echo  -> you sent 100000 characters")]
    public async Task Sample_RunsInProcess_AndExitsZero(string sample, string expectedOutput)
    {
        var assembly = await BuiltSampleAsync(sample);

        var run = await DotnetCommand.RunAsync(TsNet.TestSupport.RepositoryPaths.Root, RunLimit, assembly);
        run.ExitCode.Should().Be(0, run.Describe());
        run.StandardOutput.Should().Contain(expectedOutput);
    }

    /// <summary>
    /// TailnetWhoAmI needs a coordination server (the Tailscale interop tests run it against one); here it starts and
    /// refuses a bad setting, given as a configuration argument, with exit 2 and the setting named.
    /// </summary>
    [Fact]
    public async Task TailnetWhoAmI_WithABadControlUrl_Exits2NamingTheSetting()
    {
        var assembly = await BuiltSampleAsync("TailnetWhoAmI");

        var run = await DotnetCommand.RunAsync(TsNet.TestSupport.RepositoryPaths.Root, RunLimit, assembly, "--TSNET_CONTROL_URL=ftp://control.example");
        run.ExitCode.Should().Be(2, run.Describe());
        run.Output.Should().Contain("error: TSNET_CONTROL_URL=ftp://control.example: expected an http:// or https:// URL");
        run.StandardOutput.Should().BeEmpty();
    }

    /// <summary>The sample's built assembly; the solution build makes it, and when only this test project was built, this builds it.</summary>
    private static async Task<string> BuiltSampleAsync(string sample)
    {
        var root = TsNet.TestSupport.RepositoryPaths.Root;
        var configuration = TsNet.TestSupport.RepositoryPaths.Configuration;
        var assembly = Path.Combine(root, "samples", sample, "bin", configuration, "net10.0", sample + ".dll");
        if (!File.Exists(assembly))
        {
            var build = await DotnetCommand.RunAsync(root, TimeSpan.FromMinutes(4), "build", Path.Combine("samples", sample), "-c", configuration, "--nologo");
            build.ExitCode.Should().Be(0, build.Describe());
        }

        return assembly;
    }
}
