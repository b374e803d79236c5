using System.Diagnostics;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Observability.Testing;
using Observability.WarmUp.Scheduling;
using static Observability.WarmUp.Tests.Scheduling.SchedulingFixtures;

namespace Observability.WarmUp.Tests.Scheduling;

/// <summary>Ping jobs on Hangfire and the real PostgreSQL: retried, never doubled, never lost.</summary>
public sealed class PingJobTests
{
    [Fact]
    public async Task A_failed_ping_is_retried_by_Hangfire_until_the_sidecar_answers()
    {
        var db = await NewDatabaseAsync();
        await using var sidecar = await PingTarget.StartAsync(failFirst: 1);
        var file = TargetsFile($"targets: [{{ function: billing, url: \"{sidecar.Url}\", policy: fixed }}]");
        await using var scheduler = await SchedulerRunner.StartAsync(db, o => o.TargetsFile = file);

        Assert.Single(await scheduler.PlanAsync());

        var ping = Assert.Single(await AnsweredPingsAsync(db, "billing", 1));
        Assert.Equal("cold", ping.Outcome); // the retry was the first request to reach the function
        Assert.Equal(200, ping.StatusCode);
        Assert.Equal(2, sidecar.Pings);
        // No collector on this database: the next run knows the answered ping from the ledger and waits its interval.
        Assert.Empty(await scheduler.PlanAsync());
        var storage = scheduler.Services.GetRequiredService<JobStorage>();
        // The ping is recorded inside the job, a moment before Hangfire moves the job to Succeeded.
        var succeeded = await Poll.UntilAsync(
            () => Task.FromResult(storage.GetMonitoringApi().SucceededJobs(0, 10)), jobs => jobs.Count > 0, TimeSpan.FromSeconds(30), "the ping job to succeed");
        var job = Assert.Single(succeeded);
        using (var connection = storage.GetConnection())
        {
            Assert.Equal("1", connection.GetJobParameter(job.Key, "RetryCount"));
        }

        var metrics = await scheduler.MetricsAsync();
        Assert.Equal(1, MetricsText.Value(metrics, "obs_warmup_pings_total{function=\"billing\",outcome=\"failed\"}"));
        Assert.Equal(1, MetricsText.Value(metrics, "obs_warmup_pings_total{function=\"billing\",outcome=\"cold\"}"));
    }

    [Fact]
    public async Task Two_schedulers_on_one_database_send_each_ping_once_even_when_their_planners_run_together()
    {
        var db = await NewDatabaseAsync();
        await using var sidecar = await PingTarget.StartAsync();
        const int instances = 2;
        var file = TargetsFile($"targets: [{{ function: search, url: \"{sidecar.Url}\", policy: fixed, fixedInterval: \"01:00:00\", instances: {instances} }}]");
        // Started together on a fresh database: both create the schemas at once.
        var started = await Task.WhenAll(
            SchedulerRunner.StartAsync(db, o => o.TargetsFile = file),
            SchedulerRunner.StartAsync(db, o => o.TargetsFile = file));
        await using var first = started[0];
        await using var second = started[1];

        var runs = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => (i % 2 == 0 ? first : second).PlanAsync()));
        var storage = first.Services.GetRequiredService<JobStorage>();
        await Poll.UntilAsync(
            () => Task.FromResult(storage.GetMonitoringApi()),
            api => api.ScheduledCount() + api.EnqueuedCount("default") + api.ProcessingCount() == 0 && api.SucceededListCount() > 0,
            TimeSpan.FromSeconds(60),
            "Hangfire to run every job");

        Assert.Equal(1, runs.Sum(r => r.Count));
        var ping = Assert.Single(await PingsAsync(db, "search"));
        Assert.Equal(instances, ping.Instances);
        Assert.Equal(instances, sidecar.Pings);

        // At least once: a job run again (a retry, a worker presumed dead) finds its ping answered and sends nothing.
        await second.Services.GetRequiredService<PingJob>().RunAsync(ping.Id, CancellationToken.None);
        Assert.Equal(instances, sidecar.Pings);
        Assert.Equal(2, storage.GetMonitoringApi().Servers().Count);
    }

    [Fact]
    public async Task A_ping_whose_worker_is_killed_mid_request_is_sent_by_another_scheduler()
    {
        var db = await NewDatabaseAsync();
        await using var sidecar = await PingTarget.StartAsync(hangFirst: 1);
        var file = TargetsFile($"targets: [{{ function: payments, url: \"{sidecar.Url}\", policy: fixed }}]");
        var invisibility = TimeSpan.FromSeconds(3);
        // A planner without workers: the only worker at first is the obs-warmup process.
        await using var planner = await SchedulerRunner.StartAsync(db, o =>
        {
            o.TargetsFile = file;
            o.WorkerCount = 0;
        });
        using var worker = StartWorkerProcess(db, file, invisibility);
        try
        {
            var storage = planner.Services.GetRequiredService<JobStorage>();
            await Poll.UntilAsync(() => Task.FromResult(storage.GetMonitoringApi().Servers().Count), n => n == 1, TimeSpan.FromSeconds(60), "obs-warmup's Hangfire server");
            Assert.Single(await planner.PlanAsync());
            await Poll.UntilAsync(() => Task.FromResult(sidecar.Pings), n => n == 1, TimeSpan.FromSeconds(60), "the worker process to send the ping");

            worker.Kill(entireProcessTree: true); // SIGKILL mid-request: no clean shutdown, the job is still fetched
            await worker.WaitForExitAsync();
        }
        finally
        {
            if (!worker.HasExited)
            {
                worker.Kill(entireProcessTree: true);
            }
        }

        Assert.DoesNotContain(await PingsAsync(db, "payments"), p => p.Outcome is not null);
        await using var survivor = await SchedulerRunner.StartAsync(db, o =>
        {
            o.TargetsFile = file;
            o.InvisibilityTimeout = invisibility;
        });

        var ping = Assert.Single(await AnsweredPingsAsync(db, "payments", 1, TimeSpan.FromSeconds(90)));
        Assert.Equal("warm", ping.Outcome); // the killed request had started the function
        Assert.Equal(2, sidecar.Pings);
    }

    private static Process StartWorkerProcess(string db, string targetsFile, TimeSpan invisibility)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        var options = new WarmUpOptions();
        SchedulerRunner.Defaults(options, db, o =>
        {
            o.TargetsFile = targetsFile;
            o.WorkerCount = 1;
            o.InvisibilityTimeout = invisibility;
        });
        string[] args =
        [
            RepositoryFiles.Built("src", "Observability.WarmUp.Host", "obs-warmup.dll"),
            $"--WarmUp:DatabaseUrl={options.DatabaseUrl}",
            $"--WarmUp:ReadKey={options.ReadKey}",
            $"--WarmUp:WarmUpToken={options.WarmUpToken}",
            $"--WarmUp:TargetsFile={options.TargetsFile}",
            "--WarmUp:Port=0",
            "--WarmUp:RecurringPlanner=false",
            $"--WarmUp:WorkerCount={options.WorkerCount}",
            $"--WarmUp:InvisibilityTimeout={options.InvisibilityTimeout:c}",
            $"--WarmUp:SchedulePollingInterval={options.SchedulePollingInterval:c}",
            $"--WarmUp:QueuePollInterval={options.QueuePollInterval:c}",
            "--Logging:LogLevel:Default=Warning",
        ];
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
