using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Observability.Sidecar.Supervision;
using Observability.Testing;

namespace Observability.Sidecar.Tests;

/// <summary>The cold-start boundaries the sidecar records, against the moments a function records of itself.</summary>
public sealed class ColdStartTimingTests(PostgresDatabase database, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private const int Wanted = 10;
    private const int MaxColdStarts = 20;
    private static readonly TimeSpan Tolerance = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// A Node function with a 150 ms init says when it started and when it began to listen (see
    /// Functions/timed-start.js); the sidecar scales it to zero between requests, so each request is a cold start.
    /// Each record also says how far each boundary may be off. A machine busy enough to stall the sidecar for
    /// longer than the tolerance (seen here: 60 ms at a load average of 20 on 2 cores) widens that, and the record
    /// says so; such a cold start must still be right within what it says, and does not count towards the 10.
    /// Nor does one where node could not note its own start in time: it read its binary from disk first (it says
    /// how many major page faults it took), or it noted its start more than 5 ms after the sidecar's. The sidecar
    /// takes the latest moment its bracket around Process.Start allows, which returns once the exec is done, so
    /// a start the function notes later than that is late on the function's side: node was blocked before it ran
    /// any JavaScript (seen once in CI, 7.7 ms late), and time spent blocked is in neither of its bounds. The
    /// sidecar's process start is then checked against nothing; a sidecar that is always early leaves fewer
    /// than 10 counted, and one later than the function's own start fails whatever the load.
    /// </summary>
    [Fact]
    public async Task Process_start_and_listening_are_within_5_ms_of_the_functions_own_moments_over_10_cold_starts()
    {
        await using var collector = await CollectorRunner.StartAsync(database.ConnectionString);
        var script = Path.Combine(SidecarRunner.RepositoryRoot, "tests", "Observability.Sidecar.Tests", "Functions", "timed-start.js");
        await using var sidecar = await SidecarRunner.StartCommandAsync(
            "timed-fn", collector, ["node", script], "IdleTimeout=00:00:00.3", "FunctionEnvironment:INIT_DELAY_MS=150");

        var own = new Dictionary<int, (DateTime Started, DateTime Listening)>();
        var counted = 0;
        var failures = new List<string>();
        for (var i = 0; i < MaxColdStarts && counted < Wanted; i++)
        {
            // Each request finds the function scaled to zero (the first one finds it starting), so each is cold.
            if (i > 0)
            {
                await Poll.UntilAsync(() => sidecar.Admin.GetStringAsync("/metrics"), m => MetricsText.Value(m, "obs_sidecar_idle_stops_total") >= i && MetricsText.Value(m, "obs_sidecar_function_up") == 0, what: $"scale to zero #{i}");
            }

            var times = await sidecar.Client.GetFromJsonAsync<JsonElement>("/");
            var pid = times.GetProperty("pid").GetInt32();
            var (started, listening) = (FromUnixMilliseconds(times.GetProperty("started").GetDouble()), FromUnixMilliseconds(times.GetProperty("listening").GetDouble()));
            var attributes = (await collector.SpansAsync("timed-fn", "faas.coldstart", n => n >= i + 1))
                .Select(r => r.GetProperty("attributes")).Single(a => a.GetProperty("process.pid").GetInt32() == pid);

            var (startOff, startUncertainty) = (Moment(attributes, "obs.coldstart.process_start") - started, Milliseconds(attributes, "obs.coldstart.process_start_uncertainty_ms"));
            var (listeningOff, listeningUncertainty) = (Moment(attributes, "obs.coldstart.listening") - listening, Milliseconds(attributes, "obs.coldstart.listening_uncertainty_ms"));
            var held = startUncertainty > Tolerance || listeningUncertainty > Tolerance;
            var ownStartLate = times.GetProperty("majorFaults").GetInt32() > 0 ? "major page faults"
                : startOff < -Tolerance ? "noted after the sidecar's latest possible moment"
                : null;
            var line = FormattableString.Invariant($"pid {pid}: process start {startOff.TotalMilliseconds:+0.00;-0.00} ms (±{startUncertainty.TotalMilliseconds:F2}), listening {listeningOff.TotalMilliseconds:+0.00;-0.00} ms (±{listeningUncertainty.TotalMilliseconds:F2}){(held ? ", sidecar held up" : string.Empty)}{(ownStartLate is null ? string.Empty : $", the function's own start late ({ownStartLate})")}");
            output.WriteLine(line);
            if (startOff > (held ? startUncertainty + Tolerance : Tolerance) || listeningOff.Duration() > (held ? listeningUncertainty + Tolerance : Tolerance))
            {
                failures.Add(line);
            }

            counted += held || ownStartLate is not null ? 0 : 1;
        }

        Assert.True(failures.Count == 0, $"cold starts further off than {Tolerance.TotalMilliseconds} ms: {string.Join("; ", failures)}");
        Assert.True(counted >= Wanted, $"only {counted} of {MaxColdStarts} cold starts were measured without the sidecar being held up");
    }

    [Theory]
    [InlineData("12:00:00.000", "12:00:00.0031", "12:00:00.0052", "12:00:00.0052", 2.1)] // kernel tick before the launch: ours, the end of it
    [InlineData("12:00:00.000", "11:59:59.9990", "12:00:00.0150", "12:00:00.0100", 10)] // a slow launch: the kernel's tick bounds it
    [InlineData("12:00:00.020", "12:00:00.0031", "12:00:00.0052", "12:00:00.0052", 2.1)] // kernel ahead of both: our bracket
    [InlineData("12:00:00.000", "12:00:00.0200", "12:00:00.0230", "12:00:00.0200", 3)] // kernel far behind: our bracket
    public void The_process_start_is_the_latest_moment_both_clocks_allow(string kernel, string before, string after, string expected, double uncertaintyMs)
    {
        static DateTime At(string time) => DateTime.ParseExact("2026-01-01 " + time, "yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        var start = LaunchClock.ProcessStart(At(kernel), At(before), At(after));
        Assert.Equal(At(expected), start.At);
        Assert.Equal(TimeSpan.FromMilliseconds(uncertaintyMs), start.Uncertainty);
    }

    private static DateTime Moment(JsonElement attributes, string name) =>
        DateTime.Parse(attributes.GetProperty(name).GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind).ToUniversalTime();

    private static TimeSpan Milliseconds(JsonElement attributes, string name) => TimeSpan.FromMilliseconds(attributes.GetProperty(name).GetDouble());

    private static DateTime FromUnixMilliseconds(double milliseconds) => DateTime.UnixEpoch.AddTicks((long)Math.Round(milliseconds * TimeSpan.TicksPerMillisecond));
}
