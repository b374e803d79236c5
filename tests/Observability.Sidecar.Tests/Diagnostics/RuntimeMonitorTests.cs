using System.Diagnostics;
using System.Net;
using System.Runtime.Versioning;
using Observability.Sidecar.Diagnostics;
using Observability.Testing;
using Xunit.Abstractions;

namespace Observability.Sidecar.Tests.Diagnostics;

/// <summary>The runtime monitor against real processes: the sample .NET function, and `sleep` as a non-.NET one.</summary>
[SupportedOSPlatform("linux")]
public sealed class RuntimeMonitorTests(ITestOutputHelper output)
{
    private const string SampleFailure = "sample failure: hello was asked to throw";
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private readonly TestOutputLogger _logger = new(output);

    [Fact]
    public async Task Listen_mode_sees_the_whole_startup_and_the_runtime_connect_before_the_port_opens()
    {
        await using var monitor = Listen();
        await using var function = FunctionProcess.StartHello(monitor.ChildEnvironment);
        Assert.True(await monitor.StartAsync(function.Pid, ConnectTimeout, default));
        var accepting = await function.WaitUntilAcceptingAsync();

        var clock = Stopwatch.StartNew();
        var profile = await monitor.EndStartupAsync(default);
        var ending = clock.Elapsed;
        Assert.Same(profile, await monitor.EndStartupAsync(default));

        output.WriteLine($"suspended {(monitor.RuntimeResumed - monitor.RuntimeConnected)?.TotalMilliseconds:F1} ms; connected {(monitor.RuntimeConnected - function.StartTime)?.TotalMilliseconds:F0} ms "
            + $"after start; accepting {(accepting - function.StartTime).TotalMilliseconds:F0} ms after start; EndStartupAsync {ending.TotalMilliseconds:F0} ms");
        output.WriteLine($"{profile with { SlowestAssemblies = [], SlowestMethods = [] }}");
        output.WriteLine("slowest assemblies: " + string.Join(", ", profile.SlowestAssemblies.Select(a => $"{a.Name} {a.Milliseconds} ms")));
        output.WriteLine("slowest methods: " + string.Join(", ", profile.SlowestMethods.Select(m => $"{m.Name} {m.Milliseconds} ms")));

        Assert.True(profile.AssembliesLoaded > 10, $"{profile.AssembliesLoaded} assemblies");
        Assert.NotEmpty(profile.SlowestAssemblies);
        Assert.All(profile.SlowestAssemblies, a => Assert.False(string.IsNullOrWhiteSpace(a.Name)));
        Assert.Contains(profile.SlowestAssemblies, a => a.Milliseconds > 0);
        Assert.True(profile.MethodsJitted > 100, $"{profile.MethodsJitted} methods jitted");
        Assert.True(profile.JitMilliseconds > 0);
        Assert.NotEmpty(profile.SlowestMethods);
        Assert.All(profile.SlowestMethods, m => Assert.False(string.IsNullOrWhiteSpace(m.Name)));

        // The kernel's start time is rounded down to 10 ms, so it is never after the connection.
        Assert.NotNull(monitor.RuntimeConnected);
        Assert.InRange(monitor.RuntimeConnected.Value, function.StartTime, accepting);
        Assert.InRange(monitor.RuntimeResumed!.Value, monitor.RuntimeConnected.Value, accepting);
    }

    [Fact]
    public async Task A_thrown_exception_is_seen_with_a_stack_naming_the_handler_and_reported_unhandled()
    {
        await using var monitor = Listen();
        var unhandled = new TaskCompletionSource<RuntimeException>(TaskCreationOptions.RunContinuationsAsynchronously);
        monitor.UnhandledException += e => unhandled.TrySetResult(e);
        await using var function = FunctionProcess.StartHello(monitor.ChildEnvironment);
        Assert.True(await monitor.StartAsync(function.Pid, ConnectTimeout, default));
        await function.WaitUntilAcceptingAsync();
        await monitor.EndStartupAsync(default); // from here on only the light session runs

        var since = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        using (var response = await function.Client.GetAsync("/throw"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        }

        var reported = await unhandled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"UnhandledException raised {clock.ElapsedMilliseconds} ms after the request; heap {monitor.GcHeapBytes} bytes after {monitor.GcCount} GCs");
        var seen = await Poll.UntilAsync(
            () => Task.FromResult(monitor.ExceptionsSince(since)),
            list => list.Any(e => e.Type == typeof(InvalidOperationException).FullName && e.StackTrace is not null),
            TimeSpan.FromSeconds(10),
            "the exception with its stack");

        var exception = seen.Last(e => e.Type == typeof(InvalidOperationException).FullName);
        output.WriteLine($"{exception}");
        Assert.Equal(SampleFailure, exception.Message);
        Assert.Contains("at Program.", exception.StackTrace, StringComparison.Ordinal);
        Assert.Contains("<Main>$>b__", exception.StackTrace, StringComparison.Ordinal); // the /throw lambda
        Assert.InRange(exception.Time, since.AddSeconds(-1), DateTime.UtcNow);
        Assert.True(exception.ThreadId > 0);
        Assert.Equal(exception, reported);
    }

    [Fact]
    public async Task Garbage_collections_give_the_heap_size_and_the_count()
    {
        await using var monitor = Listen();
        await using var function = FunctionProcess.StartHello(monitor.ChildEnvironment);
        Assert.True(await monitor.StartAsync(function.Pid, ConnectTimeout, default));
        await function.WaitUntilAcceptingAsync();
        await monitor.EndStartupAsync(default);

        // Large bodies echoed back are large-object-heap allocations: a few of them make the runtime collect.
        var requests = 0;
        var (count, heap) = await Poll.UntilAsync(
            async () =>
            {
                using var body = new ByteArrayContent(new byte[4 << 20]);
                using var response = await function.Client.PostAsync("/echo", body);
                requests++;
                return (monitor.GcCount, monitor.GcHeapBytes);
            },
            gc => gc is { Item1: > 0, Item2: > 0 },
            TimeSpan.FromSeconds(20),
            "a garbage collection");
        output.WriteLine($"{count} GCs, heap {heap} bytes, after {requests} requests of 4 MiB");
    }

    [Fact]
    public async Task A_triage_dump_is_written_one_over_the_limit_is_deleted_and_none_is_tried_once_the_process_exited()
    {
        await using var monitor = Listen();
        await using var function = FunctionProcess.StartHello(monitor.ChildEnvironment);
        Assert.True(await monitor.StartAsync(function.Pid, ConnectTimeout, default));
        await function.WaitUntilAcceptingAsync();
        var folder = Path.Combine(Path.GetTempPath(), $"obs-dumps-{Guid.NewGuid():N}");
        try
        {
            var clock = Stopwatch.StartNew();
            var dump = await monitor.WriteDumpAsync(folder, DumpKind.Triage, long.MaxValue, default);
            output.WriteLine($"{dump} in {clock.ElapsedMilliseconds} ms");
            Assert.Null(dump.Error);
            Assert.NotNull(dump.Path);
            Assert.StartsWith(folder, dump.Path, StringComparison.Ordinal);
            Assert.Contains($"{function.Pid}", Path.GetFileName(dump.Path), StringComparison.Ordinal);
            Assert.True(new FileInfo(dump.Path).Length > 0);
            Assert.Equal(new FileInfo(dump.Path).Length, dump.Bytes);
            File.Delete(dump.Path);

            var refused = await monitor.WriteDumpAsync(folder, DumpKind.Triage, 1024, default);
            output.WriteLine($"{refused}");
            Assert.Null(refused.Path);
            Assert.True(refused.Bytes > 1024);
            Assert.Contains("over the limit of 1024 bytes", refused.Error, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(folder));

            await function.DisposeAsync();
            var gone = await monitor.WriteDumpAsync(folder, DumpKind.Triage, long.MaxValue, default);
            Assert.Null(gone.Path);
            Assert.Contains("has exited", gone.Error, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Attach_mode_sees_exceptions_of_an_already_running_function()
    {
        await using var function = FunctionProcess.StartHello();
        await function.WaitUntilAcceptingAsync();

        await using var monitor = await RuntimeMonitor.AttachAsync(function.Pid, _logger, TimeProvider.System, default);
        Assert.NotNull(monitor);
        Assert.Equal(StartupProfile.Empty, await monitor.EndStartupAsync(default));
        Assert.Null(monitor.RuntimeConnected);

        var since = DateTime.UtcNow;
        using (var response = await function.Client.GetAsync("/throw"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        }

        var seen = await Poll.UntilAsync(
            () => Task.FromResult(monitor.ExceptionsSince(since)),
            list => list.Any(e => e.Message == SampleFailure && e.StackTrace is not null),
            TimeSpan.FromSeconds(10),
            "the exception");
        Assert.Equal(typeof(InvalidOperationException).FullName, seen[^1].Type);
    }

    [Fact]
    public async Task Attach_mode_on_a_process_that_is_not_dotnet_is_null_at_once()
    {
        await using var sleeper = FunctionProcess.Start("sleep", ["30"]);
        var clock = Stopwatch.StartNew();
        Assert.Null(await RuntimeMonitor.AttachAsync(sleeper.Pid, _logger, TimeProvider.System, default));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.ElapsedMilliseconds} ms");

        // A socket left behind by an earlier process with the same pid: nothing answers on it.
        var stale = Path.Combine(Path.GetTempPath(), $"dotnet-diagnostic-{sleeper.Pid}-1-socket");
        await File.WriteAllTextAsync(stale, "");
        try
        {
            clock.Restart();
            Assert.Null(await RuntimeMonitor.AttachAsync(sleeper.Pid, _logger, TimeProvider.System, default));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.ElapsedMilliseconds} ms");
        }
        finally
        {
            File.Delete(stale);
        }
    }

    [Fact]
    public async Task Listen_mode_with_a_child_that_is_not_dotnet_gives_up_at_the_timeout()
    {
        var monitor = Listen();
        var socket = monitor.ChildEnvironment["DOTNET_DiagnosticPorts"];
        await using var sleeper = FunctionProcess.Start("sleep", ["30"], monitor.ChildEnvironment);
        var clock = Stopwatch.StartNew();
        Assert.False(await monitor.StartAsync(sleeper.Pid, TimeSpan.FromMilliseconds(500), default));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromSeconds(3));
        Assert.False(File.Exists(socket), "the socket is removed");
        Assert.Empty(monitor.ExceptionsSince(DateTime.MinValue));
        Assert.Equal(StartupProfile.Empty, await monitor.EndStartupAsync(default));
        await monitor.DisposeAsync();
        Assert.False(sleeper.Process.HasExited, "the child is not the monitor's to stop");
    }

    private RuntimeMonitor Listen() =>
        RuntimeMonitor.Listen(Path.Combine(Path.GetTempPath(), $"obs-diag-{Guid.NewGuid():N}.sock"), _logger, TimeProvider.System);
}
