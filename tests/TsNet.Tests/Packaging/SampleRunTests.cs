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
        var root = TsNet.TestSupport.RepositoryPaths.Root;
        var configuration = TsNet.TestSupport.RepositoryPaths.Configuration;
        var assembly = Path.Combine(root, "samples", sample, "bin", configuration, "net10.0", sample + ".dll");
        if (!File.Exists(assembly))
        {
            // The solution build makes it; when only this test project was built, build the sample now.
            var build = await DotnetCommand.RunAsync(root, TimeSpan.FromMinutes(4), "build", Path.Combine("samples", sample), "-c", configuration, "--nologo");
            build.ExitCode.Should().Be(0, build.Describe());
        }

        var run = await DotnetCommand.RunAsync(root, RunLimit, assembly);
        run.ExitCode.Should().Be(0, run.Describe());
        run.StandardOutput.Should().Contain(expectedOutput);
    }
}
