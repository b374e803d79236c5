namespace Observability.Cli.Demo;

/// <summary>
/// The demo's four functions. Together they make every kind of data the suite shows: `hello` (.NET) with steady
/// traffic, errors and a crash now and then, warmed by the histogram policy; `node-hello` (Node) with traffic that
/// comes and goes, warmed by the fixed policy; `checkout` (.NET, a slow init, not warmed) in bursts that each start
/// it cold and call `node-hello`, so a trace spans two functions; and `orders` (gRPC) in bursts with failing calls.
/// Every one scales to zero when idle. Versions look like releases, so that a page listing versions reads as one.
/// </summary>
internal static class DemoFunctions
{
    public const string Hello = "hello";
    public const string Node = "node-hello";
    public const string Checkout = "checkout";
    public const string Orders = "orders";

    /// <summary>The functions on ports from <paramref name="basePort"/> (proxy), +100 (admin), +200 (the function); 0: any free ports.</summary>
    public static IReadOnlyList<DemoFunction> Create(int basePort, string helloDll, string grpcDll, string nodeServer)
    {
        var index = 0;
        var taken = new HashSet<int>();
        int Free()
        {
            // The kernel may hand the same free port out twice in a row: each function needs its own.
            int port;
            do
            {
                port = Hosting.LocalPostgres.FreePort();
            }
            while (!taken.Add(port));
            return port;
        }

        (int Port, int Admin, int Upstream) Ports()
        {
            var i = index++;
            return basePort == 0 ? (Free(), Free(), Free()) : (basePort + i, basePort + 100 + i, basePort + 200 + i);
        }

        var hello = Ports();
        var node = Ports();
        var checkout = Ports();
        var orders = Ports();
        return
        [
            new(Hello, "1.4.2", ".NET", ["dotnet", helloDll], hello.Port, hello.Admin, hello.Upstream, TimeSpan.FromSeconds(30), Grpc: false,
                new Dictionary<string, string> { ["FUNCTION_NAME"] = Hello },
                new WarmUpPlan("histogram", KeepAlive: TimeSpan.FromSeconds(30), Margin: TimeSpan.FromSeconds(10), FixedInterval: TimeSpan.FromSeconds(20))),
            new(Node, "2.0.1", "Node.js", ["node", nodeServer], node.Port, node.Admin, node.Upstream, TimeSpan.FromSeconds(20), Grpc: false,
                new Dictionary<string, string> { ["INIT_DELAY_MS"] = "500" },
                new WarmUpPlan("fixed", KeepAlive: TimeSpan.FromSeconds(20), Margin: TimeSpan.FromSeconds(5), FixedInterval: TimeSpan.FromSeconds(10))),
            new(Checkout, "3.1.0", ".NET, slow init", ["dotnet", helloDll], checkout.Port, checkout.Admin, checkout.Upstream, TimeSpan.FromSeconds(8), Grpc: false,
                new Dictionary<string, string> { ["FUNCTION_NAME"] = Checkout, ["INIT_DELAY_MS"] = "1500" },
                WarmUp: null),
            new(Orders, "1.0.7", ".NET gRPC", ["dotnet", grpcDll], orders.Port, orders.Admin, orders.Upstream, TimeSpan.FromSeconds(10), Grpc: true,
                new Dictionary<string, string> { ["FUNCTION_NAME"] = Orders },
                WarmUp: null),
        ];
    }
}
