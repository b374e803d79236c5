using Npgsql;

namespace Observability.WarmUp.Storage;

/// <summary>
/// The scheduler's own tables, in schema <c>warmup</c> beside the collector's: created at start if missing, under a
/// transaction-scoped advisory lock so that several schedulers starting at once on one database do not race.
/// </summary>
internal static class WarmUpSchema
{
    /// <summary>Advisory lock key of the scheduler's schema set-up (any constant no other part of the suite uses).</summary>
    public const long LockKey = 0x6F62_735F_7775; // "obs_wu"

    private const string Sql = """
        CREATE SCHEMA IF NOT EXISTS warmup;
        -- What the scheduler warms, as last planned: from the targets file (source config) or a sidecar's
        -- obs.warmup.url (source discovered). The collector's API reads it for the functions list.
        CREATE TABLE IF NOT EXISTS warmup.targets (
            function_name   text        PRIMARY KEY,
            url             text        NOT NULL,
            policy          text        NOT NULL,
            instances       int         NOT NULL,
            budget_per_hour int         NOT NULL,
            active_hours    text,
            source          text        NOT NULL,
            updated_at      timestamptz NOT NULL
        );
        -- One row per planned ping. The unique slot makes planning idempotent: a re-run or a second scheduler that
        -- plans the same ping gets a conflict, not a second ping. outcome stays null until a request answered.
        CREATE TABLE IF NOT EXISTS warmup.pings (
            id            bigserial        PRIMARY KEY,
            function_name text             NOT NULL,
            url           text             NOT NULL,
            planned_at    timestamptz      NOT NULL,
            sent_at       timestamptz,
            outcome       text,
            status_code   int,
            latency_ms    double precision,
            instances     int              NOT NULL,
            UNIQUE (function_name, planned_at)
        );
        CREATE INDEX IF NOT EXISTS pings_function_sent ON warmup.pings (function_name, sent_at DESC);
        """;

    /// <param name="connection">An open connection to the suite's database.</param>
    /// <param name="underLock">More set-up to do under the same lock (Hangfire installing its schema).</param>
    public static void Create(NpgsqlConnection connection, Action? underLock = null)
    {
        using var transaction = connection.BeginTransaction();
        using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("key", LockKey);
            lockCommand.ExecuteNonQuery();
        }

        using (var create = new NpgsqlCommand(Sql, connection, transaction))
        {
            create.ExecuteNonQuery();
        }

        underLock?.Invoke();

        transaction.Commit();
    }
}
