// Redaction cost per failure snapshot: the same snapshot (a 4 KiB JSON request and response body, 12 headers each,
// a URL with a query, 50 log lines, 40 environment variables) built into the OTLP log body and encoded, once with
// the redactor as the snapshot worker runs it and once copying every text as it is (the baseline), in alternating
// rounds of the same run. Prints per-snapshot times, allocations and the ratio; medians over the rounds.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Observability.Sidecar.Snapshots;

var rounds = Argument("--rounds", 7);
var iterations = Argument("--iterations", 2000);

var body = JsonBody(4096);
var request = new CapturedMessage(Headers("application/json"), body, body.Length, "application/json");
var response = new CapturedMessage(Headers("application/json"), body, body.Length, "application/json");
const string url = "/orders/7/checkout?id=7&page=2&sort=name&sig=abc123def456&lang=en";
string[] logs = [.. Enumerable.Range(0, 50).Select(LogLine)];
KeyValuePair<string, string>[] environment = [.. Enumerable.Range(0, 40).Select(Variable)];
var redactor = new Redactor([], [], ["collector-write-key-0123456789"]);

Console.WriteLine($"snapshot: {body.Length} B JSON body both ways, {request.Headers.Count} headers each, {logs.Length} log lines, {environment.Length} variables; {rounds} rounds of {iterations}");
var baseline = new List<(double Micros, double Bytes)>();
var redacted = new List<(double Micros, double Bytes)>();
var sink = 0L;
Measure(() => sink += Snapshot(redact: false).Length, iterations); // warm-up (JIT, tiering)
Measure(() => sink += Snapshot(redact: true).Length, iterations);
for (var round = 0; round < rounds; round++)
{
    baseline.Add(Measure(() => sink += Snapshot(redact: false).Length, iterations));
    redacted.Add(Measure(() => sink += Snapshot(redact: true).Length, iterations));
}

var (baseMicros, baseBytes) = (Median(baseline.Select(b => b.Micros)), Median(baseline.Select(b => b.Bytes)));
var (redactMicros, redactBytes) = (Median(redacted.Select(r => r.Micros)), Median(redacted.Select(r => r.Bytes)));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"baseline (no redaction): {baseMicros,8:F1} µs/snapshot, {baseBytes / 1024,7:F1} KiB allocated"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"redacted:                {redactMicros,8:F1} µs/snapshot, {redactBytes / 1024,7:F1} KiB allocated"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"redaction adds {redactMicros - baseMicros:F1} µs per snapshot; ratio redacted/baseline {redactMicros / baseMicros:F2}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"(checksum {sink % 1000})"));

byte[] Snapshot(bool redact)
{
    var document = new JsonObject
    {
        ["request"] = redact ? SnapshotDocument.Message(request, redactor) : Unredacted(request),
        ["response"] = redact ? SnapshotDocument.Message(response, redactor) : Unredacted(response),
    };
    document["request"]!["url"] = redact ? redactor.Text(url) : url;
    document["logs"] = new JsonArray([.. logs.Select(l => (JsonNode)(redact ? redactor.Text(l) : l)!)]);
    var variables = new JsonObject();
    foreach (var (name, value) in environment)
    {
        variables[name] = redact ? redactor.EnvironmentVariable(name, value) : value;
    }

    document["environment"] = variables;
    return SnapshotDocument.ToAnyValue(document).ToByteArray();
}

static JsonObject Unredacted(CapturedMessage message)
{
    var headers = new JsonObject();
    foreach (var (name, value) in message.Headers)
    {
        headers[name] = value;
    }

    return new JsonObject { ["headers"] = headers, ["bodyBytes"] = message.BodyBytes, ["body"] = Encoding.UTF8.GetString(message.BodyHead), ["bodyTruncated"] = false };
}

static (double Micros, double Bytes) Measure(Action snapshot, int count)
{
    var allocated = GC.GetAllocatedBytesForCurrentThread();
    var started = Stopwatch.GetTimestamp();
    for (var i = 0; i < count; i++)
    {
        snapshot();
    }

    var elapsed = Stopwatch.GetElapsedTime(started);
    return (elapsed.TotalMicroseconds / count, (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)count);
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

// An order as an API would receive it: nested objects and arrays, numbers, a few secrets among ordinary fields.
static byte[] JsonBody(int size)
{
    var text = new StringBuilder("{\"order\":{\"id\":7,\"customer\":{\"name\":\"Ann Example\",\"email\":\"ann@example.com\",\"password\":\"hunter2\",\"address\":{\"street\":\"1 Main St\",\"city\":\"Springfield\",\"zip\":\"12345\"}},\"items\":[");
    for (var i = 0; text.Length < size - 200; i++)
    {
        text.Append(CultureInfo.InvariantCulture, $"{(i > 0 ? "," : "")}{{\"sku\":\"SKU-{i:D5}\",\"name\":\"Item number {i}\",\"qty\":{i % 5 + 1},\"price\":{i * 1.25:F2},\"tags\":[\"a\",\"b\"]}}");
    }

    text.Append("]},\"payment\":{\"method\":\"card\",\"token\":\"tok_1234567890abcdef\"},\"note\":\"deliver after 5pm\"}");
    return Encoding.UTF8.GetBytes(text.ToString());
}

static List<KeyValuePair<string, string>> Headers(string contentType) =>
[
    new("Host", "orders.internal:8081"), new("User-Agent", "curl/8.5.0"), new("Accept", "*/*"), new("Content-Type", contentType),
    new("Content-Length", "4096"), new("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"), new("X-Request-Id", "9f3a71c2-d4e5-4f6a-8b9c-0d1e2f3a4b5c"),
    new("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), new("Accept-Encoding", "gzip, br"), new("X-Forwarded-For", "10.0.0.7"),
    new("Cookie", "session=abc"), new("X-Tenant", "acme"),
];

static string LogLine(int i) => (i % 5) switch
{
    0 => $"info: Orders.Checkout[1] Checkout started for order {i} at {DateTime.UnixEpoch.AddSeconds(i):O}",
    1 => $"orders: POST /orders/{i}/checkout traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    2 => $"warn: Orders.Payments[7] Payment provider answered 502 after {i * 3} ms; retrying (attempt 2 of 3)",
    3 => "      at Orders.Payments.ChargeAsync(Order order, CancellationToken ct) in /src/Orders/Payments.cs:line 42",
    _ => $"info: Orders.Inventory[3] Reserved {i} items in warehouse eu-west-1",
};

static KeyValuePair<string, string> Variable(int i) => (i % 8) switch
{
    0 => new($"PATH{i}", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
    1 => new($"DOTNET_VAR{i}", "1"),
    2 => new($"ASPNETCORE_URLS{i}", "http://127.0.0.1:8080"),
    3 => new($"DB_PASSWORD{i}", "hunter2"),
    4 => new($"ConnectionStrings__Main{i}", "Host=db;Username=app;Password=p"),
    5 => new($"HOSTNAME{i}", "orders-7d9f8c-abcde"),
    6 => new($"Sidecar__Port{i}", "8081"),
    _ => new($"FEATURE_FLAGS{i}", "checkout-v2,fast-inventory"),
};

int Argument(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}
