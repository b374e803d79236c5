using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;
using Observability.Testing;
using Observability.WarmUp.Scheduling;
using static Observability.WarmUp.Tests.Scheduling.SchedulingFixtures;

namespace Observability.WarmUp.Tests.Scheduling;

/// <summary>The scheduler's port: the dashboard behind the read key (Bearer or Basic, so a browser can log in), /metrics, /healthz.</summary>
public sealed class SchedulerPortTests
{
    [Fact]
    public async Task The_dashboard_takes_the_read_key_as_bearer_or_basic_and_asks_a_browser_for_it()
    {
        await using var scheduler = await SchedulerRunner.StartAsync(await NewDatabaseAsync());
        using var anonymous = CollectorRunner.Client(scheduler.Port, null);

        var refused = await anonymous.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("Basic realm=\"obs\"", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        using var basic = new HttpRequestMessage(HttpMethod.Get, "/hangfire");
        basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("anyone:" + CollectorRunner.ReadKey)));
        var page = await anonymous.SendAsync(basic);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("obs warm-up", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var bearer = CollectorRunner.Client(scheduler.Port, CollectorRunner.ReadKey);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("/hangfire/recurring")).StatusCode);

        using var wrongBasic = new HttpRequestMessage(HttpMethod.Get, "/hangfire");
        wrongBasic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(CollectorRunner.ReadKey + ":nope")));
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(wrongBasic)).StatusCode);

        using var metricsKey = CollectorRunner.Client(scheduler.Port, CollectorRunner.MetricsKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await metricsKey.GetAsync("/hangfire")).StatusCode);
    }

    [Fact]
    public async Task Metrics_take_the_metrics_or_the_read_key_and_health_takes_none()
    {
        await using var scheduler = await SchedulerRunner.StartAsync(await NewDatabaseAsync());
        using var anonymous = CollectorRunner.Client(scheduler.Port, null);
        using var metricsKey = CollectorRunner.Client(scheduler.Port, CollectorRunner.MetricsKey);
        using var readKey = CollectorRunner.Client(scheduler.Port, CollectorRunner.ReadKey);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
        Assert.Contains("obs_warmup_planner_runs_total", await metricsKey.GetStringAsync("/metrics"), StringComparison.Ordinal);
        Assert.Contains("obs_warmup_planner_runs_total", await readKey.GetStringAsync("/metrics"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public void A_bad_targets_file_fails_the_start_naming_the_entry_and_the_key()
    {
        var file = TargetsFile("targets:\n  - function: orders\n    policy: sometimes\n");
        var error = Assert.Throws<OptionsValidationException>(() => WarmUpScheduler.Build([], o => SchedulerRunner.Defaults(o, "Host=127.0.0.1", c => c.TargetsFile = file)));
        var failure = Assert.Single(error.Failures);
        Assert.Contains("targets[0] (orders)", failure, StringComparison.Ordinal);
        Assert.Contains("\"policy\" \"sometimes\"", failure, StringComparison.Ordinal);
        Assert.Contains("histogram", failure, StringComparison.Ordinal);
    }
}
