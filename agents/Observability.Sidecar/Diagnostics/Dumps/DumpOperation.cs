using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Extensions.Logging;

namespace Observability.Sidecar.Diagnostics.Dumps;

/// <summary>Has a runtime write a dump of its process, bounded in size.</summary>
internal sealed partial class DumpOperation(DiagnosticsClient client, int pid, ILogger logger, TimeProvider time)
{
    /// <summary>
    /// Writes a dump into <paramref name="directory"/> (created owner-only: a dump holds process memory). A dump over
    /// <paramref name="maxBytes"/> is deleted once written (createdump cannot be bounded while it writes) and reported
    /// as an <see cref="DumpResult.Error"/>, as is a dump the runtime could not write.
    /// </summary>
    public async Task<DumpResult> WriteAsync(string directory, DumpKind kind, long maxBytes, CancellationToken ct)
    {
        if (!Directory.Exists($"/proc/{pid}"))
        {
            // In listen mode a command to an exited runtime would wait for a connection until ct is cancelled.
            return new DumpResult(null, 0, $"Process {pid} has exited: no {kind} dump.");
        }

        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var stamp = time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss.fff'Z'", CultureInfo.InvariantCulture);
        var path = Path.Combine(Path.GetFullPath(directory), $"dump-{pid}-{stamp}-{kind.ToString().ToLowerInvariant()}.dmp");
        var started = time.GetTimestamp();
        try
        {
            await client.WriteDumpAsync(DumpTypeOf(kind), path, WriteDumpFlags.None, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ServerNotAvailableException or ServerErrorException or IOException)
        {
            Files.TryDelete(path);
            LogDumpFailed(logger, pid, kind, e.Message);
            return new DumpResult(null, 0, $"The runtime could not write a {kind} dump: {e.Message}");
        }

        var file = new FileInfo(path);
        if (!file.Exists)
        {
            return new DumpResult(null, 0, $"The runtime reported a {kind} dump written to {path}, but there is no such file.");
        }

        if (file.Length > maxBytes)
        {
            Files.TryDelete(path);
            LogDumpTooLarge(logger, pid, kind, file.Length, maxBytes);
            return new DumpResult(null, file.Length, $"The {kind} dump was {file.Length} bytes, over the limit of {maxBytes} bytes, and was deleted.");
        }

        var elapsed = time.GetElapsedTime(started);
        LogDumpWritten(logger, pid, kind, path, file.Length, elapsed.TotalMilliseconds);
        return new DumpResult(path, file.Length, null);
    }

    private static DumpType DumpTypeOf(DumpKind kind) => kind switch
    {
        DumpKind.Mini => DumpType.Normal,
        DumpKind.Triage => DumpType.Triage,
        DumpKind.WithHeap => DumpType.WithHeap,
        DumpKind.Full => DumpType.Full,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    [LoggerMessage(EventId = 3112, Level = LogLevel.Information, Message = "Wrote a {Kind} dump of pid {Pid} to {Path}: {Bytes} bytes in {ElapsedMs:F0} ms")]
    private static partial void LogDumpWritten(ILogger logger, int pid, DumpKind kind, string path, long bytes, double elapsedMs);

    [LoggerMessage(EventId = 3113, Level = LogLevel.Warning, Message = "A {Kind} dump of pid {Pid} was {Bytes} bytes, over the limit of {MaxBytes}: deleted")]
    private static partial void LogDumpTooLarge(ILogger logger, int pid, DumpKind kind, long bytes, long maxBytes);

    [LoggerMessage(EventId = 3114, Level = LogLevel.Warning, Message = "Could not write a {Kind} dump of pid {Pid}: {Reason}")]
    private static partial void LogDumpFailed(ILogger logger, int pid, DumpKind kind, string reason);
}
