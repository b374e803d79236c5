using System.Globalization;
using System.Text.Json;
using Observability.Cli.Client;
using Observability.Cli.Terminal;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>
/// `obs failures show ID --dump FILE`: saves the snapshot's dump from the collector, streamed to FILE.part and renamed
/// once whole, with a progress bar on a terminal (dumps run to hundreds of megabytes).
/// </summary>
internal static class DumpDownload
{
    /// <summary>Downloads the dump of <paramref name="snapshot"/> (the detail the collector gave for <paramref name="snapshotId"/>) to <paramref name="file"/>.</summary>
    /// <exception cref="NotFoundException">The snapshot has no dump, or the collector does not hold it: the message says why and where it is.</exception>
    public static async Task<int> SaveAsync(Invocation run, string snapshotId, JsonElement snapshot, string file)
    {
        if (snapshot.Get("dump") is not { ValueKind: JsonValueKind.Object } dump)
        {
            throw new NotFoundException($"snapshot {snapshotId} has no dump: the sidecar writes one only for .NET functions, with its DumpOnFailure setting");
        }

        if (dump.Get("downloadable") is not { ValueKind: JsonValueKind.True })
        {
            throw new NotFoundException($"the collector does not hold the dump of snapshot {snapshotId}: {dump.Str("reason") ?? "it gave no reason"}");
        }

        var path = Path.GetFullPath(file);
        var partial = path + ".part";
        using var response = await run.Client.GetStreamingAsync($"api/v1/snapshots/{snapshotId}/dump", run.Cancel);
        var expected = response.Content.Headers.ContentLength;
        long copied;
        try
        {
            await using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1024 * 1024, FileOptions.Asynchronous))
            await using (var input = await response.Content.ReadAsStreamAsync(run.Cancel))
            {
                copied = AnsiConsole.Profile.Capabilities.Interactive && !run.Json
                    ? await WithProgressAsync(input, output, expected, run.Cancel)
                    : await CopyAsync(input, output, _ => { }, run.Cancel);
            }

            if (expected is { } length && copied != length)
            {
                throw new CollectorClientException($"the download ended after {copied} of {length} bytes: run the command again");
            }

            File.Move(partial, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(partial);
            throw new UsageException($"cannot write the dump to {path} ({e.Message}): give --dump a file in a folder you can write");
        }
        catch
        {
            TryDelete(partial);
            throw;
        }

        var kind = dump.Str("kind") is { } k ? k + " " : string.Empty;
        var saved = $"Saved the {kind}dump of snapshot {snapshotId} to {path} ({copied.ToString("#,0", CultureInfo.InvariantCulture)} bytes). Open it with: dotnet-dump analyze {path}";
        // With --json, stdout is the snapshot's JSON alone.
        (run.Json ? Console.Error : Console.Out).WriteLine(saved);
        return 0;
    }

    private static async Task<long> WithProgressAsync(Stream input, Stream output, long? expected, CancellationToken ct)
    {
        long copied = 0;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("Downloading the dump", maxValue: expected ?? 1);
                task.IsIndeterminate = expected is null;
                copied = await CopyAsync(input, output, read => task.Increment(read), ct);
                task.Value = task.MaxValue;
            });
        return copied;
    }

    private static async Task<long> CopyAsync(Stream input, Stream output, Action<int> progress, CancellationToken ct)
    {
        var buffer = new byte[256 * 1024];
        long copied = 0;
        int read;
        while (true)
        {
            try
            {
                read = await input.ReadAsync(buffer, ct);
            }
            catch (IOException e)
            {
                throw new CollectorClientException($"the download broke off after {copied} bytes ({e.Message}): run the command again", e);
            }

            if (read == 0)
            {
                break;
            }

            await output.WriteAsync(buffer.AsMemory(0, read), ct);
            copied += read;
            progress(read);
        }

        return copied;
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do: the error that brought us here is the one to report.
        }
    }
}
