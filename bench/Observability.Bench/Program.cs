using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Observability.Bench;
using Observability.Collector.Configuration;
using Observability.Testing;

// Collector ingest benchmark: raw binary COPY of mapped rows against the collector end to end, on one
// PostgreSQL, alternating the two over a warm-up round and the measured rounds. See docs/benchmarks.md.
if (args.FirstOrDefault() == "query")
{
    return args.Contains("--help") ? Print(QueryBench.Usage) : await QueryBench.RunAsync(args[1..]);
}

if (args.FirstOrDefault() == "analysis")
{
    return args.Contains("--help") ? Print(AnalysisBench.Usage) : await AnalysisBench.RunAsync(args[1..]);
}

if (args.FirstOrDefault() == "storage")
{
    return args.Contains("--help") ? Print(StorageBench.Usage) : await StorageBench.RunAsync(args[1..]);
}

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync(e.Message + Environment.NewLine + BenchOptions.Usage);
    return 2;
}

var log = Console.Error;
log.WriteLine($"Generating {options.Spans:N0} spans in requests of {options.SpansPerRequest}...");
var payloads = SpanGenerator.Generate(options.Spans, options.SpansPerRequest);
var warmup = payloads.Take(((options.WarmupSpans ?? options.Spans) + options.SpansPerRequest - 1) / options.SpansPerRequest).ToList();
log.WriteLine($"{payloads.Count:N0} requests, {payloads.Sum(p => (long)p.Body.Length) / payloads.Count / 1024:N0} KiB each on average");

await using var postgres = await PostgresServer.StartAsync(options.Durable);
var rawDatabase = await postgres.CreateDatabaseAsync("bench_raw");
var endToEndDatabase = await postgres.CreateDatabaseAsync("bench_e2e");
await (await CollectorRunner.StartAsync(rawDatabase)).DisposeAsync(); // schema and today's partitions for the raw COPY
await using var collector = await CollectorRunner.StartAsync(endToEndDatabase, o =>
{
    o.Writers = options.Writers ?? o.Writers;
    o.BatchMaxRows = options.BatchRows ?? o.BatchMaxRows;
    o.QueueCapacity = options.QueueCapacity ?? o.QueueCapacity;
});
var settings = collector.Services.GetRequiredService<IOptions<CollectorOptions>>().Value;

var rounds = new List<RoundResult>();
for (var round = 0; round <= options.Rounds; round++)
{
    var name = round == 0 ? "warm-up" : $"round {round}";
    var set = round == 0 ? warmup : payloads;
    RawCopyResult raw;
    EndToEndResult endToEnd;
    // Alternate which goes first, so that drift on a shared machine does not favour one side.
    if (round % 2 == 0)
    {
        raw = await RawCopyAsync(set);
        endToEnd = await EndToEndAsync(set);
    }
    else
    {
        endToEnd = await EndToEndAsync(set);
        raw = await RawCopyAsync(set);
    }

    rounds.Add(new RoundResult(name, raw, endToEnd));
    log.WriteLine($"{name}: raw COPY {raw.SpansPerSecond:N0} spans/s, end to end {endToEnd.SpansPerSecond:N0} spans/s " +
        $"({endToEnd.MeanBatchRows:N0} rows/batch, machine {endToEnd.Cpu.MachineBusy:P0} busy), " +
        $"{endToEnd.Retries} retries, {endToEnd.Dropped} dropped, {endToEnd.Lost} lost, {endToEnd.DuplicateRows} duplicate rows");
}

IReadOnlyList<StageCost>? profile = null;
if (options.Profile)
{
    log.WriteLine("Profiling the ingest steps one by one...");
    await SpanTable.ResetAsync(rawDatabase);
    profile = await StageProfile.RunAsync(rawDatabase, payloads, settings.BatchMaxRows);
}

var results = BenchResults.From(options, settings.Writers, settings.BatchMaxRows, $"{postgres.Kind}, {(options.Durable ? "fsync and synchronous_commit on" : "fsync off")}", rounds, profile);
if (options.Json)
{
    Report.WriteJson(Console.Out, results);
}
else
{
    Report.WriteTable(Console.Out, results);
}

return 0; // a measurement, not a test: missed targets are reported, not failed

static int Print(string text)
{
    Console.WriteLine(text);
    return 0;
}

async Task<RawCopyResult> RawCopyAsync(IReadOnlyList<Payload> set)
{
    await SpanTable.ResetAsync(rawDatabase);
    return await RawCopyBaseline.RunAsync(rawDatabase, set, settings.BatchMaxRows, options.RawConnections);
}

async Task<EndToEndResult> EndToEndAsync(IReadOnlyList<Payload> set)
{
    await SpanTable.ResetAsync(endToEndDatabase);
    GC.Collect();
    var before = await CollectorCounters.ReadAsync(collector.Query);
    var cpu = CpuUse.Now();
    var gc = GcUse.Now();
    var load = await EndToEndLoad.RunAsync(collector.Ingest, set, options.Clients);
    cpu = CpuUse.Now() - cpu;
    gc = GcUse.Now() - gc;
    var counters = await CollectorCounters.ReadAsync(collector.Query) - before;
    var stored = await SpanTable.CountAsync(endToEndDatabase);
    return new EndToEndResult(
        load.SpansPerSecond, load.AcknowledgedSpans, stored.Rows, stored.DistinctIds, load.Retries, counters.Dropped, counters.Duplicates,
        counters.MeanBatchRows, counters.MeanCommitMilliseconds, CpuPerSpan.Of(cpu, load.AcknowledgedSpans), gc);
}
