namespace Observability.Cli.Suite;

/// <summary>What `obs up` and `obs demo` start the suite with: the data folder, the database and the ports (0: any free one).</summary>
internal sealed record SuiteSettings(
    string DataDirectory,
    string? DatabaseUrl,
    string ListenAddress,
    int GrpcPort,
    int OtlpPort,
    int HttpPort,
    int WarmUpPort,
    string? WarmUpTargetsFile)
{
    /// <summary>Extra scheduler settings as configuration switches (`--WarmUp:Name=value`), e.g. the demo's quick polling.</summary>
    public IReadOnlyList<string> WarmUpArguments { get; init; } = [];

    /// <summary>
    /// Runs once the collector listens (<see cref="LocalSuite.Endpoints"/> has its addresses, not yet the scheduler's)
    /// and before the scheduler starts: the demo starts its functions there, so that the first pings find them.
    /// </summary>
    public Func<LocalSuite, CancellationToken, Task>? BeforeScheduler { get; init; }
}
