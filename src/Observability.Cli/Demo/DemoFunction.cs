using System.Globalization;
using System.Text;

namespace Observability.Cli.Demo;

/// <summary>How the warm-up scheduler keeps a demo function warm: a policy and its settings (docs/warm-up.md#targets).</summary>
internal sealed record WarmUpPlan(string Policy, TimeSpan KeepAlive, TimeSpan Margin, TimeSpan FixedInterval);

/// <summary>
/// One sample function of the demo behind its own obs-sidecar: its name and version, how it starts, its ports, and what the
/// sidecar does with it (scale to zero after <see cref="IdleTimeout"/>, h2c for gRPC, the warm-up plan if any).
/// </summary>
internal sealed record DemoFunction(
    string Name,
    string Version,
    string Language,
    IReadOnlyList<string> Command,
    int Port,
    int AdminPort,
    int UpstreamPort,
    TimeSpan IdleTimeout,
    bool Grpc,
    IReadOnlyDictionary<string, string> Environment,
    WarmUpPlan? WarmUp)
{
    public Uri Url => new($"http://127.0.0.1:{Port}/");

    /// <summary>The sidecar's command line: supervise mode, exporting to the suite with its write key, accepting its warm-up token.</summary>
    public IReadOnlyList<string> SidecarArguments(string otlpEndpoint, string writeKey, string? warmUpToken)
    {
        List<string> args =
        [
            "--name", Name, "--version", Version, "--port", Port.ToString(CultureInfo.InvariantCulture),
            "--admin-port", AdminPort.ToString(CultureInfo.InvariantCulture), "--upstream-port", UpstreamPort.ToString(CultureInfo.InvariantCulture),
            "--otlp-endpoint", otlpEndpoint, "--otlp-headers", "Authorization=Bearer " + writeKey,
            "--idle-timeout", IdleTimeout.ToString("c", CultureInfo.InvariantCulture),
        ];
        if (warmUpToken is not null)
        {
            args.AddRange(["--warmup-token", warmUpToken]);
        }

        if (Grpc)
        {
            args.Add("--Sidecar:Http2=true");
        }

        return [.. args, "--", .. Command];
    }

    /// <summary>The warm-up scheduler's targets file for the functions that have a plan, each at its sidecar's URL.</summary>
    public static string TargetsYaml(IEnumerable<DemoFunction> functions)
    {
        var yaml = new StringBuilder("# Written by `obs demo` at every start: the demo's functions the warm-up scheduler keeps warm.\ntargets:\n");
        foreach (var f in functions.Where(f => f.WarmUp is not null))
        {
            var plan = f.WarmUp!;
            yaml.Append(CultureInfo.InvariantCulture, $"""
                  - function: {f.Name}
                    url: {f.Url}
                    policy: {plan.Policy}
                    keepAlive: "{plan.KeepAlive:c}"
                    margin: "{plan.Margin:c}"
                    fixedInterval: "{plan.FixedInterval:c}"
                    budgetPerHour: 600

                """);
        }

        return yaml.ToString();
    }
}
