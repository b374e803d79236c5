using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Observability.Testing;

namespace Observability.Sidecar.Tests;

/// <summary>A collector that accepts connections and never answers must cost the function's requests nothing.</summary>
public sealed class HungCollectorTests(PostgresDatabase database, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private const int Requests = 500;

    [Fact]
    public async Task With_a_hung_collector_every_request_succeeds_as_fast_as_with_a_healthy_one_and_the_queue_stays_bounded()
    {
        // Accepts every connection, never reads a byte, never answers: the worst a collector can do.
        using var hung = new TcpListener(IPAddress.Loopback, 0);
        hung.Start(1024);
        var held = new List<Socket>();
        using var stop = new CancellationTokenSource();
        var holding = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                held.Add(await hung.AcceptSocketAsync(stop.Token));
            }
        });

        await using var collector = await CollectorRunner.StartAsync(database.ConnectionString);
        await using var healthy = await SidecarRunner.StartAsync("healthy-export", collector);
        await using var stuck = await SidecarRunner.StartAsync("hung-export", null, $"OtlpEndpoint=http://127.0.0.1:{((IPEndPoint)hung.LocalEndpoint).Port}/");
        try
        {
            // Cold starts first, so both runs below measure warm requests.
            Assert.Equal(HttpStatusCode.OK, (await healthy.Client.GetAsync("/hello")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await stuck.Client.GetAsync("/hello")).StatusCode);

            // Interleaved, so a burst of load on the machine falls on both alike. Every 50th request fails, for a
            // failure snapshot the hung collector never takes either.
            var (timesHealthy, timesStuck) = (new List<double>(), new List<double>());
            for (var i = 0; i < Requests; i++)
            {
                timesHealthy.Add(await TimeAsync(healthy, i));
                timesStuck.Add(await TimeAsync(stuck, i));
            }

            var (p99Healthy, p99Stuck) = (P99(timesHealthy), P99(timesStuck));
            output.WriteLine(FormattableString.Invariant($"p99 over {Requests} requests: healthy collector {p99Healthy:F2} ms, hung collector {p99Stuck:F2} ms"));
            Assert.True(p99Stuck <= (3 * p99Healthy) + 20, FormattableString.Invariant($"p99 {p99Stuck:F2} ms with a hung collector, {p99Healthy:F2} ms with a healthy one"));
            Assert.NotEmpty(held); // the sidecar did try to export there

            // The spans wait in the bounded queue (or were counted out of it); memory stays near the healthy sidecar's.
            var metrics = await stuck.Admin.GetStringAsync("/metrics");
            var (queued, exported, dropped) = (MetricsText.Value(metrics, "obs_sidecar_export_queue_spans"), MetricsText.Value(metrics, "obs_sidecar_spans_exported_total"), MetricsText.Value(metrics, "obs_sidecar_spans_dropped_total"));
            output.WriteLine($"hung: queued {queued}, handed to the exporter {exported}, dropped {dropped}");
            Assert.InRange(queued, 0, 8192);
            Assert.True(queued + exported + dropped >= Requests, "every span is queued, exported or counted as dropped");
            var (rssHealthy, rssStuck) = (ResidentMegabytes(healthy.ProcessId), ResidentMegabytes(stuck.ProcessId));
            output.WriteLine(FormattableString.Invariant($"VmRSS: healthy {rssHealthy:F0} MB, hung {rssStuck:F0} MB"));
            Assert.True(rssStuck <= rssHealthy + 50, FormattableString.Invariant($"VmRSS {rssStuck:F0} MB with a hung collector, {rssHealthy:F0} MB with a healthy one"));
        }
        finally
        {
            await stop.CancelAsync();
            await holding.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            held.ForEach(s => s.Dispose());
        }
    }

    private static async Task<double> TimeAsync(SidecarRunner sidecar, int i)
    {
        var watch = Stopwatch.StartNew();
        using var response = i % 50 == 49 ? await sidecar.Client.PostAsync("/echo?status=500", null) : await sidecar.Client.GetAsync("/hello");
        await response.Content.ReadAsByteArrayAsync();
        var elapsed = watch.Elapsed.TotalMilliseconds;
        Assert.Equal(i % 50 == 49 ? HttpStatusCode.InternalServerError : HttpStatusCode.OK, response.StatusCode);
        return elapsed;
    }

    private static double P99(List<double> times) => times.Order().ElementAt((int)Math.Ceiling(times.Count * 0.99) - 1);

    private static double ResidentMegabytes(int pid) =>
        double.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
}
