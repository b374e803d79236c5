using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using GrpcFunction;

namespace Observability.Cli.Demo;

/// <summary>What the traffic generator sent: requests, and those that failed (errors, crashes, timeouts), per function.</summary>
internal sealed class TrafficCounts
{
    private readonly Dictionary<string, (long Sent, long Failed)> _counts = [];

    public void Add(string function, bool failed)
    {
        lock (_counts)
        {
            var (sent, failures) = _counts.GetValueOrDefault(function);
            _counts[function] = (sent + 1, failures + (failed ? 1 : 0));
        }
    }

    public IReadOnlyDictionary<string, (long Sent, long Failed)> Snapshot()
    {
        lock (_counts)
        {
            return new Dictionary<string, (long Sent, long Failed)>(_counts);
        }
    }
}

/// <summary>
/// The demo's traffic, from a seeded random generator so that a run can be repeated: every 250 ms each function
/// may get a request. `hello` has steady traffic (2/s) with errors, slow answers and a crash every 45 s;
/// `node-hello` is busy 35 s of every minute and idle otherwise (the fixed policy keeps it warm); `checkout` gets a
/// 3-second burst every 30 s, so it starts cold each time, and every request calls `node-hello` through its sidecar
/// (one trace across two functions); `orders` gets a gRPC burst every 25 s with failing and throwing calls.
/// </summary>
internal sealed class DemoTraffic(IReadOnlyList<DemoFunction> functions, int seed, TimeProvider time) : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private static readonly string[] Names = ["ada", "grace", "alan", "edsger", "barbara", "ken"];

    private readonly Random _random = new(seed);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(40) };
    private readonly GrpcChannel _orders = GrpcChannel.ForAddress(functions.Single(f => f.Name == DemoFunctions.Orders).Url);
    private readonly SemaphoreSlim _inFlight = new(64);
    private readonly List<Task> _requests = [];

    public TrafficCounts Counts { get; } = new();

    public async Task RunAsync(CancellationToken ct)
    {
        var start = time.GetTimestamp();
        using var timer = new PeriodicTimer(Tick, time);
        var crashes = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                var t = time.GetElapsedTime(start).TotalSeconds;
                Plan(t, ref crashes);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl+C: stop sending; the requests in flight finish in DisposeAsync.
        }
    }

    // One tick: which request each function gets now, drawn in a fixed order so the seed decides everything.
    private void Plan(double t, ref int crashes)
    {
        var hello = Url(DemoFunctions.Hello);
        if (_random.NextDouble() < 0.5)
        {
            var r = _random.NextDouble();
            var path = r < 0.08 ? $"throw?msg=demo%20failure%20{_random.Next(3)}"
                : r < 0.13 ? $"slow?ms={_random.Next(200, 1500)}"
                : $"hello?name={Names[_random.Next(Names.Length)]}";
            Send(DemoFunctions.Hello, new Uri(hello, path));
        }

        // A crash 12 s in and every 45 s after: the sidecar snapshots it and restarts the function.
        if (t >= 12 + (45 * crashes))
        {
            crashes++;
            Send(DemoFunctions.Hello, new Uri(hello, "crash"));
        }

        if (t % 60 < 35 && _random.NextDouble() < 0.25)
        {
            Send(DemoFunctions.Node, new Uri(Url(DemoFunctions.Node), _random.NextDouble() < 0.06 ? "throw" : string.Empty));
        }

        if ((t - 3) % 30 is >= 0 and < 3 && _random.NextDouble() < 0.75)
        {
            var callee = Uri.EscapeDataString(Url(DemoFunctions.Node).ToString());
            Send(DemoFunctions.Checkout, new Uri(Url(DemoFunctions.Checkout), "call?url=" + callee));
        }

        if ((t - 6) % 25 is >= 0 and < 4 && _random.NextDouble() < 0.5)
        {
            var r = _random.NextDouble();
            var id = _random.Next(1000, 9999).ToString(CultureInfo.InvariantCulture);
            Track(DemoFunctions.Orders, r < 0.7 ? () => CallOrdersAsync(c => c.GetAsync(new GetRequest { Id = id }))
                : r < 0.85 ? () => CallOrdersAsync(c => c.FailAsync(new FailRequest { Code = (int)StatusCode.Internal, Message = "inventory database down" }))
                : () => CallOrdersAsync(c => c.ThrowAsync(new ThrowRequest { Message = $"order {id} could not be priced", DelayMs = 20 })));
        }
    }

    private Uri Url(string name) => functions.Single(f => f.Name == name).Url;

    private void Send(string function, Uri url) => Track(function, () => GetAsync(url));

    private async Task<bool> GetAsync(Uri url)
    {
        using var response = await _http.GetAsync(url);
        return response.IsSuccessStatusCode;
    }

    private async Task<bool> CallOrdersAsync(Func<Orders.OrdersClient, AsyncUnaryCall<Order>> call)
    {
        try
        {
            await call(new Orders.OrdersClient(_orders));
            return true;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    private void Track(string function, Func<Task<bool>> request)
    {
        if (!_inFlight.Wait(0))
        {
            // The functions are far behind (a slow machine): skip rather than pile up.
            return;
        }

        var tracked = Task.Run(async () =>
        {
            try
            {
                Counts.Add(function, failed: !await request());
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                // A crash closes the connection without an answer; a cold start may outlast a timeout.
                Counts.Add(function, failed: true);
            }
            finally
            {
                _inFlight.Release();
            }
        });
        lock (_requests)
        {
            _requests.RemoveAll(r => r.IsCompleted);
            _requests.Add(tracked);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task[] pending;
        lock (_requests)
        {
            pending = [.. _requests];
        }

        // Requests in flight get a moment to finish; whatever is left is cut off with the client.
        await Task.WhenAny(Task.WhenAll(pending), Task.Delay(TimeSpan.FromSeconds(5), time));
        _http.Dispose();
        _orders.Dispose();
        _inFlight.Dispose();
    }
}
