using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Observability.Testing;

namespace Observability.Sidecar.Tests;

/// <summary>
/// A corpus of planted secrets in every place a failure snapshot captures, sent through real failing requests
/// through a real sidecar to a real collector and database: none of them may be stored or logged.
/// </summary>
public sealed partial class SecretCorpusTests(PostgresDatabase database, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private const string Function = "corpus";

    // Each secret once, with the place it is planted. The value is searched for as it is.
    private static readonly (string Place, string Secret)[] Corpus =
    [
        ("header Authorization", "hdrbearer9f3a71c2d4"),
        ("header Cookie", "cookie5e8b2a9d71"),
        ("header X-Api-Key", "apikeyhdr4c7d9e2f10"),
        ("header Proxy-Authorization", "cHJveHk6cHJveHlwYXNzNzc="),
        ("header X-Amz-Security-Token", "amzsectokhdr83b1c6e0"),
        ("header with an ordinary name", "ghp_HdrNoteAbcdefghij0123456789KLMNOP"),
        ("header X-Functions-Key", "fnkeyhdr2b9e4d7c31"),
        ("query access_token", "qaccesstok61d2e9b7"),
        ("query sig (Azure SAS)", "qazuresig7f3c9a1e"),
        ("query X-Amz-Signature", "qamzsig0d4e8b2f6a"),
        ("query X-Amz-Credential", "AKIAQCREDEXAMPLE2026"),
        ("query X-Goog-Signature", "qgoogsig93c1a7e5b2"),
        ("query code (Azure Functions)", "qfnscode4a8e1d7c95"),
        ("query client_secret", "qclientsec2c6f9b3e1"),
        ("query key (Google APIs)", "qgooglekey8d2b5f1a7"),
        ("query value holding an encoded password: x", "qencpw5b9d3e7f"),
        ("JSON password at depth 3", "jsonpw1f7c3a9e5d"),
        ("JSON pin", "jsonpin84620"),
        ("JSON otp at depth 4", "jsonotp739105"),
        ("JSON array under a secret name", "jsontokarr1a2b3c4d"),
        ("JSON array under a secret name (second item)", "jsontokarr5e6f7a8b"),
        ("JSON object under a secret name", "jsoncred6c2e8a4f0b"),
        ("JSON string holding password: x", "jsoninstr3d9f1b7c"),
        ("JSON live key under an ordinary name", "sk_live_JsonStripe4eC39HqLyjWDarjt"),
        ("JSON JWT under an ordinary name", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqc29uand0In0.JsonJwtSig8a7b6c5d"),
        ("JSON apiKey in nested arrays", "jsonapikey2f8e4c6a1"),
        ("form password", "formpw8e2a6c4f1b"),
        ("form client_secret", "formcsec5d1b9f3e7a"),
        ("form otp", "formotp482913"),
        ("form Slack token under an ordinary name", "xoxb-123456789012-FormSlack0a1b2c3d4e"),
        ("text Authorization=Bearer X", "textbearer7a3e9c1f5d"),
        ("text password: x", "textpw2b8d4f6a0c"),
        ("text URL password", "textdbpw9c5e1a7b3d"),
        ("text AWS access key id", "AKIATEXTKEYEXAMPLE00"),
        ("text AWS secret beside its key id", "wJalrXUtnFEMI/K7MDENG/TextSecretKeyAbCdE"),
        ("text PEM private key", "MIIEvQIBADANBgkqhkiG9w0TextPemBody42"),
        ("text npm token", "npm_TextNpmToken0123456789abcdefghijkl"),
        ("text Google API key", "AIzaSyTextGoogleKey0123456789abcdefghij"),
        ("log line password=x", "logpw6f2c8e4a0d"),
        ("log line X-Api-Key: x", "logapikey1d7b3f9c5e"),
        ("log line GitHub token", "ghs_LogGithubAbcdefghij0123456789KLMN"),
        ("exception message password: x", "excpw8b4d2f6a1c"),
        ("exception message test key", "sk_test_ExcStripe51H8abcdefg"),
        ("environment DB_PASSWORD", "envdbpw3e9a5c1f7b"),
        ("environment OTEL_EXPORTER_OTLP_HEADERS (the collector's write key)", CollectorRunner.WriteKey),
        ("environment Sidecar__WarmUpToken", "envwarmup8c2f6a0e4d"),
        ("environment live key under an ordinary name", "sk_live_EnvStripe4eC39HqLyjWDarjt"),
        ("environment URL password", "envurlpw7d3b9f5a1c"),
        ("environment connection string password", "envconnpw2a8e4c6f0b"),
        ("environment storage AccountKey", "envacctkey9f5b1d7e3a"),
        ("environment JSON secret", "envjsonsec4c0e6a2b8d"),
        ("environment GitHub token under an ordinary name", "ghp_EnvGithubAbcdefghij0123456789KLMNOP"),
    ];

    [Fact]
    public async Task Planted_secrets_in_every_captured_place_reach_neither_the_database_nor_the_collector_log_nor_the_sidecar_log()
    {
        Assert.True(Corpus.Length >= 40);
        var collectorLog = new CapturedLog();
        await using var collector = await CollectorRunner.StartAsync(database.ConnectionString, logLevel: "Information");
        collector.Services.GetRequiredService<ILoggerFactory>().AddProvider(collectorLog);
        var sidecar = await SidecarRunner.StartAsync(
            Function,
            collector,
            "--Logging:LogLevel:Default=Information",
            $"FunctionEnvironment:DB_PASSWORD={S("environment DB_PASSWORD")}",
            $"FunctionEnvironment:OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer {CollectorRunner.WriteKey}",
            $"FunctionEnvironment:UPSTREAM_SETTING=prefix-{CollectorRunner.WriteKey}",
            $"FunctionEnvironment:Sidecar__WarmUpToken={S("environment Sidecar__WarmUpToken")}",
            $"FunctionEnvironment:PAYMENTS_CONFIG={S("environment live key under an ordinary name")}",
            $"FunctionEnvironment:SERVICE_URL=https://svc:{S("environment URL password")}@payments.internal/v1",
            $"FunctionEnvironment:ConnectionStrings__Main=Host=db;Username=app;Password={S("environment connection string password")}",
            $"FunctionEnvironment:AZURE_STORAGE_CONNECTION=DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={S("environment storage AccountKey")}==;EndpointSuffix=core.windows.net",
            $"FunctionEnvironment:APP_SETTINGS_JSON={{\"db\":{{\"secret\":\"{S("environment JSON secret")}\"}}}}",
            $"FunctionEnvironment:GH={S("environment GitHub token under an ordinary name")}");
        try
        {
            await SendJsonRequestWithSecretHeadersAndQueryAsync(sidecar);
            await SendAsync(sidecar, "/echo?status=500", "application/x-www-form-urlencoded",
                $"username=ann&password={S("form password")}&client_secret={S("form client_secret")}&otp={S("form otp")}&note={S("form Slack token under an ordinary name")}&page=2");
            await SendAsync(sidecar, "/echo?status=500", "text/plain", string.Join('\n',
                $"Authorization=Bearer {S("text Authorization=Bearer X")}",
                $"password: {S("text password: x")}",
                $"db at postgres://app:{S("text URL password")}@db:5432/app",
                $"aws {S("text AWS access key id")} {S("text AWS secret beside its key id")}",
                $"-----BEGIN PRIVATE KEY-----\n{S("text PEM private key")}\n-----END PRIVATE KEY-----",
                $"publish with {S("text npm token")} and maps with {S("text Google API key")}"));
            await SendAsync(sidecar, "/log-then-throw", "text/plain", string.Join('\n',
                $"connecting with password={S("log line password=x")}",
                $"X-Api-Key: {S("log line X-Api-Key: x")}",
                $"retrying with token {S("log line GitHub token")}",
                $"login failed for ann with password: {S("exception message password: x")} using {S("exception message test key")}"));

            var snapshots = await collector.SnapshotsAsync(Function, 4);
            var exceptions = snapshots.SelectMany(s => s.GetProperty("snapshot").TryGetProperty("exceptions", out var e) ? e.EnumerateArray() : []).ToList();
            Assert.Contains(exceptions, e => e.GetProperty("message").GetString()!.Contains("password: [REDACTED]", StringComparison.Ordinal));
            await Poll.UntilAsync(
                () => Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM spans WHERE service_name = $1 AND status_code = 2", Function),
                n => n >= 4);
        }
        finally
        {
            await sidecar.DisposeAsync(); // flushes everything it still holds
        }

        var spanQueries = await Sql.ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM spans WHERE service_name = $1 AND attributes::text LIKE '%url.query%sig=[REDACTED]%'", Function);
        Assert.True(spanQueries >= 1, "the invocation span carries url.query, redacted");
        var stored = await EverythingStoredAsync();
        Assert.Contains("customer said password: [REDACTED]", stored, StringComparison.Ordinal); // the JSON body arrived, rewritten
        Assert.Contains("AccountKey=[REDACTED]", stored, StringComparison.Ordinal); // the environment arrived
        Assert.Contains("failed after logging", stored, StringComparison.Ordinal); // the exception and log lines arrived
        var sidecarLog = SidecarOwnLog(sidecar.Output);
        Assert.Contains("Failure snapshot taken", sidecarLog, StringComparison.Ordinal);
        var collectorText = collectorLog.Text;
        output.WriteLine($"{stored.Length} characters stored, {sidecarLog.Length} of sidecar log, {collectorText.Length} of collector log");

        var leaks = Corpus
            .SelectMany(c => new[] { ("database", stored), ("collector log", collectorText), ("sidecar log", sidecarLog) }
                .Where(where => where.Item2.Contains(c.Secret, StringComparison.Ordinal))
                .Select(where => $"{c.Place} ({c.Secret}) reached the {where.Item1}"))
            .ToList();
        Assert.True(leaks.Count == 0, string.Join('\n', leaks));
    }

    private static string S(string place) => Corpus.Single(c => c.Place == place).Secret;

    private static async Task SendJsonRequestWithSecretHeadersAndQueryAsync(SidecarRunner sidecar)
    {
        var query = string.Join('&',
            "status=500",
            $"access_token={S("query access_token")}",
            "sv=2022-11-02&se=2030-01-01",
            $"sig={S("query sig (Azure SAS)")}",
            $"X-Amz-Signature={S("query X-Amz-Signature")}",
            $"X-Amz-Credential={S("query X-Amz-Credential")}%2F20260101%2Fus-east-1%2Fs3%2Faws4_request",
            $"X-Goog-Signature={S("query X-Goog-Signature")}",
            $"code={S("query code (Azure Functions)")}",
            $"client_secret={S("query client_secret")}",
            $"key={S("query key (Google APIs)")}",
            $"message=login%20password%3A%20{S("query value holding an encoded password: x")}");
        var json = $$$"""
            {"order":{"id":7,"customer":{"name":"ann","password":"{{{S("JSON password at depth 3")}}}","pin":"{{{S("JSON pin")}}}",
              "profile":{"otp":"{{{S("JSON otp at depth 4")}}}","tokens":["{{{S("JSON array under a secret name")}}}","{{{S("JSON array under a secret name (second item)")}}}"]} }},
             "payment":{"card":{"credentials":{"user":"u","value":"{{{S("JSON object under a secret name")}}}"} }},
             "note":"customer said password: {{{S("JSON string holding password: x")}}}",
             "webhook":"{{{S("JSON live key under an ordinary name")}}}",
             "data":"{{{S("JSON JWT under an ordinary name")}}}",
             "deep":[[{"apiKey":"{{{S("JSON apiKey in nested arrays")}}}"}]]}
            """;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/echo?" + query) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + S("header Authorization"));
        request.Headers.TryAddWithoutValidation("Cookie", "session=" + S("header Cookie"));
        request.Headers.TryAddWithoutValidation("X-Api-Key", S("header X-Api-Key"));
        request.Headers.TryAddWithoutValidation("Proxy-Authorization", "Basic " + S("header Proxy-Authorization"));
        request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", S("header X-Amz-Security-Token"));
        request.Headers.TryAddWithoutValidation("X-Request-Note", S("header with an ordinary name"));
        request.Headers.TryAddWithoutValidation("X-Functions-Key", S("header X-Functions-Key"));
        using var response = await sidecar.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
    }

    private static async Task SendAsync(SidecarRunner sidecar, string path, string contentType, string body)
    {
        using var response = await sidecar.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, contentType));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
    }

    /// <summary>Every row of every table, as text: whatever column a secret could hide in.</summary>
    private async Task<string> EverythingStoredAsync()
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        Assert.Contains("spans", tables);
        Assert.Contains("logs", tables);
        var text = new StringBuilder();
        foreach (var table in tables)
        {
            await using var rows = new NpgsqlCommand($"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM \"{table}\" t", connection);
            text.AppendLine((string)(await rows.ExecuteScalarAsync())!);
        }

        return text.ToString();
    }

    /// <summary>
    /// The sidecar's own log entries (its categories, with their continuation lines) out of its output, which also
    /// passes the function's output through: what the function printed itself is the function's business.
    /// </summary>
    private static string SidecarOwnLog(string output)
    {
        var own = new StringBuilder();
        var inOwnEntry = false;
        foreach (var line in output.Split('\n'))
        {
            if (LogEntryStart().Match(line) is { Success: true } start)
            {
                inOwnEntry = start.Groups["category"].Value.StartsWith("Observability.", StringComparison.Ordinal);
            }
            else if (line.Length == 0 || !char.IsWhiteSpace(line[0]))
            {
                inOwnEntry = false;
            }

            if (inOwnEntry)
            {
                own.AppendLine(line);
            }
        }

        return own.ToString();
    }

    // The console logger's entry header: "info: Category[EventId]".
    [GeneratedRegex("^(?:trce|dbug|info|warn|fail|crit): (?<category>[^\\[\\s]+)\\[\\d+\\]")]
    private static partial Regex LogEntryStart();

    /// <summary>Everything the collector logs, as text.</summary>
    private sealed class CapturedLog : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _entries = new();

        public string Text => string.Join('\n', _entries);

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue($"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {exception}");
        }
    }
}
