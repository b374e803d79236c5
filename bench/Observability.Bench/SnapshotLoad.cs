using System.Globalization;
using System.Net;
using Observability.Testing;
using OpenTelemetry.Proto.Collector.Logs.V1;

namespace Observability.Bench;

/// <summary>
/// Sends a failure snapshot for each failed invocation through the real ingest path (POST /v1/logs), as the sidecar
/// does (SnapshotSeed builds the log record), tied to the invocation's trace and span. Each function fails in one way,
/// every third in two: a few dozen fingerprints.
/// </summary>
internal static class SnapshotLoad
{
    private const int PerRequest = 100;

    private static readonly (string Type, string Message)[] Exceptions =
    [
        ("System.TimeoutException", "The downstream inventory service did not answer within 5 seconds."),
        ("System.NullReferenceException", "Object reference not set to an instance of an object."),
        ("Npgsql.PostgresException", "23505: duplicate key value violates unique constraint \"orders_pkey\""),
        ("System.InvalidOperationException", "Sequence contains no elements"),
        ("System.Net.Http.HttpRequestException", "Connection refused (payments.internal:443)"),
    ];

    /// <returns>The snapshots sent.</returns>
    /// <exception cref="InvalidOperationException">The collector did not take every snapshot.</exception>
    public static async Task<int> StoreAsync(HttpClient ingest, IReadOnlyList<FailedInvocation> failed)
    {
        foreach (var batch in failed.Chunk(PerRequest))
        {
            var export = SnapshotSeed.Export([.. batch.Select(Snapshot)]);
            // SnapshotSeed gives each snapshot new ids; the sidecar's carry the invocation's. Export groups by function
            // and version in order of first appearance, keeping the order within a group: the same grouping finds each.
            var groups = batch.GroupBy(f => (f.Function, f.Version)).ToList();
            for (var g = 0; g < groups.Count; g++)
            {
                var records = export.ResourceLogs[g].ScopeLogs[0].LogRecords;
                foreach (var (record, invocation) in records.Zip(groups[g]))
                {
                    record.TraceId = invocation.TraceId;
                    record.SpanId = invocation.SpanId;
                    record.Body.KvlistValue.Values.Single(v => v.Key == "traceId").Value.StringValue = Convert.ToHexStringLower(invocation.TraceId.Span);
                }
            }

            using var response = await ingest.PostAsync(new Uri("/v1/logs", UriKind.Relative), OtlpFactory.Protobuf(export));
            var body = await response.Content.ReadAsByteArrayAsync();
            var rejected = response.StatusCode == HttpStatusCode.OK ? ExportLogsServiceResponse.Parser.ParseFrom(body).PartialSuccess?.RejectedLogRecords ?? 0 : batch.Length;
            if (rejected != 0)
            {
                throw new InvalidOperationException($"POST /v1/logs answered {(int)response.StatusCode} and took {batch.Length - rejected} of {batch.Length} snapshots");
            }
        }

        return failed.Count;
    }

    private static SnapshotSeed.Snapshot Snapshot(FailedInvocation f)
    {
        var (type, message) = Exceptions[(f.FunctionIndex + f.Kind) % Exceptions.Length];
        var timeout = type == "System.TimeoutException";
        var handler = string.Concat(f.Function.Split('-').Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
        var stack = string.Create(CultureInfo.InvariantCulture, $"""
            {type}: {message}
               at Functions.{handler}.Handler.HandleAsync(Request request) in /src/{handler}/Handler.cs:line {42 + (7 * f.Kind)}
               at Functions.Host.InvokeAsync(HttpContext context) in /src/Host.cs:line 88
            """);
        return new SnapshotSeed.Snapshot(
            f.Function, f.Version, f.Start, timeout ? "timeout" : "status_5xx", timeout ? 504 : 500, "/api/orders/" + f.TraceId.Span[0], type, stack, Message: message);
    }
}
