using System.Globalization;
using Npgsql;

namespace Observability.Collector.Query;

/// <summary>
/// The query API's own connections: a data source apart from the writers', with a server-side
/// statement_timeout, so that a search too broad to finish is stopped by PostgreSQL itself (and answered 504)
/// instead of holding a connection and a core while ingest waits. JIT is off: the analysis queries are costed
/// high enough to be compiled on every call, and compiling took more than half of the functions page's time
/// (1.1 of 2.1 s at 1M spans, bench/analysis.sh) for queries that then run in milliseconds.
/// </summary>
public static class QueryDatabase
{
    /// <summary>The DI key of the query data source.</summary>
    public const string Key = "query";

    public static NpgsqlDataSource Create(string connectionString, TimeSpan statementTimeout)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "obs-collector-query" };
        var settings = $"-c statement_timeout={(long)statementTimeout.TotalMilliseconds} -c jit=off";
        builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? settings : builder.Options + " " + settings;
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }

    /// <summary>True for PostgreSQL's "canceling statement due to statement timeout".</summary>
    public static bool IsStatementTimeout(Exception e) =>
        e is PostgresException { SqlState: PostgresErrorCodes.QueryCanceled } pg
        && pg.MessageText.Contains("statement timeout", StringComparison.Ordinal);

    internal static string Describe(TimeSpan timeout) =>
        timeout.TotalSeconds >= 1 ? $"{timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s" : $"{timeout.TotalMilliseconds:0} ms";
}
