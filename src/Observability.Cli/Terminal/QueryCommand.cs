using System.CommandLine;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Observability.Cli.Client;

namespace Observability.Cli.Terminal;

/// <summary>
/// What every command that asks the collector shares: --collector, --read-key, --data-dir and --json, and one way to
/// end: 0 answered, 1 not found or the collector unreachable or refusing, 2 bad usage (the command line, or a
/// parameter the collector refused with 400). Errors go to stderr, unwrapped, so that scripts and people read them whole.
/// </summary>
internal sealed class QueryCommand
{
    private readonly Option<string?> _collector = new("--collector") { Description = $"The collector's API address (default: OBS_COLLECTOR_URL, else {CollectorConnection.DefaultUrl})." };
    private readonly Option<string?> _readKey = new("--read-key") { Description = "The collector's read key (default: OBS_READ_KEY, else the data folder's keys.json)." };
    private readonly Option<string> _dataDir = new("--data-dir") { Description = "The data folder of `obs up`, for its keys.json.", DefaultValueFactory = _ => ".data" };
    private readonly Option<bool> _json = new("--json") { Description = "Print the collector's answer as JSON (for scripts)." };
    private readonly string _name;

    private QueryCommand(string name) => _name = name;

    /// <summary>Adds the shared options to <paramref name="command"/> and runs <paramref name="run"/> as its action.</summary>
    /// <param name="command">The command.</param>
    /// <param name="name">How errors name the command ("obs traces search").</param>
    /// <param name="run">Asks the collector and prints; returns the exit code.</param>
    public static void Attach(Command command, string name, Func<Invocation, Task<int>> run)
    {
        var shared = new QueryCommand(name);
        command.Options.Add(shared._collector);
        command.Options.Add(shared._readKey);
        command.Options.Add(shared._dataDir);
        command.Options.Add(shared._json);
        command.SetAction(async (result, ct) =>
        {
            try
            {
                var connection = CollectorConnection.Resolve(result.GetValue(shared._collector), result.GetValue(shared._readKey), result.GetValue(shared._dataDir)!);
                using var client = new CollectorClient(connection);
                return await run(new Invocation(result, client, result.GetValue(shared._json), ct));
            }
            catch (UsageException e)
            {
                return shared.Fail(e.Message, 2);
            }
            catch (CollectorClientException e) when (e.StatusCode == HttpStatusCode.BadRequest)
            {
                return shared.Fail(e.Reason ?? e.Message, 2);
            }
            catch (NotFoundException e)
            {
                return shared.Fail(e.Message, 1);
            }
            catch (CollectorClientException e)
            {
                return shared.Fail(e.Message, 1);
            }
        });
    }

    private int Fail(string message, int exitCode)
    {
        Console.Error.WriteLine($"{_name}: {message}");
        return exitCode;
    }
}

/// <summary>One run of a query command: its parsed command line, the collector, whether to print JSON.</summary>
internal sealed record Invocation(ParseResult Result, CollectorClient Client, bool Json, CancellationToken Cancel)
{
    /// <summary>GETs <paramref name="path"/> with those of <paramref name="parameters"/> that have a value, escaped.</summary>
    public Task<JsonElement> GetAsync(string path, IEnumerable<KeyValuePair<string, string?>> parameters, string hint) =>
        GetAsync(QueryHelpers.AddQueryString(path, parameters.Where(p => !string.IsNullOrEmpty(p.Value))), hint);

    /// <summary>The API's start and end for "the last <paramref name="since"/>" (30m, 1h, 2d) up to <paramref name="now"/>.</summary>
    public static KeyValuePair<string, string?>[] Range(string since, DateTime now) =>
        [new("start", Human.Rfc3339(now - Human.Lookback(since, "--since"))), new("end", Human.Rfc3339(now))];

    /// <summary>GETs the collector's JSON; a 404 with the collector's own reason (an id it does not have) becomes <see cref="NotFoundException"/> with <paramref name="hint"/>.</summary>
    public async Task<JsonElement> GetAsync(string pathAndQuery, string hint)
    {
        try
        {
            return await Client.GetAsync<JsonElement>(pathAndQuery, Cancel);
        }
        catch (CollectorClientException e) when (e.StatusCode == HttpStatusCode.NotFound && e.Reason is { } reason && reason != CollectorClientException.NoDetails)
        {
            throw new NotFoundException($"{reason}: {hint}");
        }
    }

    /// <summary>Prints the collector's answer as it came, indented.</summary>
    public static int PrintJson(JsonElement answer)
    {
        Console.WriteLine(JsonSerializer.Serialize(answer, CliJson.Options));
        return 0;
    }
}

/// <summary>The command line asks for something impossible: exit code 2 and this message.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The collector has no such trace, group or snapshot: exit code 1 and this message.</summary>
internal sealed class NotFoundException(string message) : Exception(message);
