namespace Observability.Collector.Storage;

/// <summary>
/// The schema, as numbered steps applied once each, in order. Never edit a step that has shipped:
/// add the next one.
/// </summary>
internal static class Migrations
{
    public static readonly IReadOnlyList<(int Version, string Name, string Sql)> All =
    [
        (1, "spans, logs and inventory", """
            -- Spans: ids and timing as columns, FaaS attributes promoted to columns so they can be indexed,
            -- the rest as jsonb. Partitioned by day on start_time; retention drops whole partitions.
            -- trace_id leads the primary key: it serves trace-by-id, makes a retried span a conflict
            -- (idempotent ingest), and is the distribution key when the table is sharded with Citus.
            CREATE TABLE spans (
                trace_id           bytea       NOT NULL,
                span_id            bytea       NOT NULL,
                parent_span_id     bytea,
                trace_state        text,
                name               text        NOT NULL,
                kind               smallint    NOT NULL,
                start_time         timestamptz NOT NULL,
                duration_ns        bigint      NOT NULL,
                status_code        smallint    NOT NULL,
                status_message     text,
                flags              integer     NOT NULL,
                service_name       text        NOT NULL,
                scope_name         text,
                scope_version      text,
                function_name      text,
                function_version   text,
                faas_instance      text,
                faas_trigger       text,
                faas_invocation_id text,
                faas_coldstart     boolean,
                warmup             boolean     NOT NULL,
                coldstart_phase    text,
                http_status_code   integer,
                attributes         jsonb       NOT NULL,
                resource           jsonb       NOT NULL,
                events             jsonb       NOT NULL,
                links              jsonb       NOT NULL,
                PRIMARY KEY (trace_id, span_id, start_time)
            ) PARTITION BY RANGE (start_time);
            CREATE INDEX spans_service_time ON spans (service_name, start_time DESC);
            CREATE INDEX spans_function_time ON spans (function_name, start_time DESC) WHERE function_name IS NOT NULL;
            CREATE INDEX spans_errors ON spans (start_time DESC) WHERE status_code = 2;
            CREATE INDEX spans_coldstarts ON spans (function_name, function_version, start_time DESC) WHERE faas_coldstart;

            -- Log records (failure snapshots among them). No id in OTLP: log_id is a content hash.
            CREATE TABLE logs (
                log_id           bytea       NOT NULL,
                time             timestamptz NOT NULL,
                observed_time    timestamptz NOT NULL,
                trace_id         bytea,
                span_id          bytea,
                severity_number  smallint    NOT NULL,
                severity_text    text,
                event_name       text,
                service_name     text        NOT NULL,
                function_name    text,
                function_version text,
                faas_instance    text,
                scope_name       text,
                body             jsonb       NOT NULL,
                attributes       jsonb       NOT NULL,
                resource         jsonb       NOT NULL,
                PRIMARY KEY (log_id, time)
            ) PARTITION BY RANGE (time);
            CREATE INDEX logs_trace ON logs (trace_id) WHERE trace_id IS NOT NULL;
            CREATE INDEX logs_service_time ON logs (service_name, time DESC);
            CREATE INDEX logs_event_time ON logs (event_name, time DESC) WHERE event_name IS NOT NULL;

            -- Inventory kept from the spans as they are committed: what exists and when it was last seen.
            CREATE TABLE functions (
                function_name    text        NOT NULL,
                function_version text        NOT NULL,
                first_seen       timestamptz NOT NULL,
                last_seen        timestamptz NOT NULL,
                invocations      bigint      NOT NULL,
                errors           bigint      NOT NULL,
                cold_starts      bigint      NOT NULL,
                warmups          bigint      NOT NULL,
                PRIMARY KEY (function_name, function_version)
            );
            CREATE TABLE function_instances (
                function_name    text        NOT NULL,
                function_version text        NOT NULL,
                instance         text        NOT NULL,
                first_seen       timestamptz NOT NULL,
                last_seen        timestamptz NOT NULL,
                PRIMARY KEY (function_name, function_version, instance)
            );
            CREATE TABLE operations (
                service_name text        NOT NULL,
                span_name    text        NOT NULL,
                span_kind    smallint    NOT NULL,
                first_seen   timestamptz NOT NULL,
                last_seen    timestamptz NOT NULL,
                span_count   bigint      NOT NULL,
                PRIMARY KEY (service_name, span_name, span_kind)
            );
            """),
        (2, "adjusted counts", """
            -- What each span stands for under sampling (obs.sampling.adjusted_count, else the tracestate's th, else 1);
            -- the function inventory adds these up, so its counts are estimates with fractions, not whole numbers.
            ALTER TABLE spans ADD COLUMN adjusted_count double precision NOT NULL DEFAULT 1;
            ALTER TABLE functions
                ALTER COLUMN invocations TYPE double precision,
                ALTER COLUMN errors TYPE double precision,
                ALTER COLUMN cold_starts TYPE double precision,
                ALTER COLUMN warmups TYPE double precision;
            """),
        (3, "dumps", """
            -- Dumps the sidecars upload (PUT /v1/dumps/{id}), found through the id in a snapshot's dump object.
            -- The bytes are bytea rows of 1 MiB rather than large objects: written with one COPY and read back
            -- a chunk at a time, so neither needs the whole dump in memory, and retention is a DELETE that
            -- cascades (large objects would need lo_unlink per dump and vacuumlo for the ones it missed).
            CREATE TABLE dumps (
                dump_id  text        PRIMARY KEY,
                received timestamptz NOT NULL,
                bytes    bigint      NOT NULL
            );
            CREATE INDEX dumps_received ON dumps (received);
            CREATE TABLE dump_chunks (
                dump_id text    NOT NULL REFERENCES dumps (dump_id) ON DELETE CASCADE,
                seq     integer NOT NULL,
                data    bytea   NOT NULL,
                PRIMARY KEY (dump_id, seq)
            );
            """),
        (4, "analysis indexes", """
            -- The analysis queries read one function version's invocations, cold-start phases or cold-start records in
            -- a time range. spans_function_time holds every span of the function, so at 1M spans a day the functions
            -- page read 20,000 rows per version to keep 1,500 (bench/analysis.sh: 2.1 s for a page of 20). These
            -- partial indexes hold only what each query reads, in its key order, with the columns it sums, so the
            -- reads are index-only (function_version is included as itself: the planner does not serve a column
            -- from the coalesce expression).
            CREATE INDEX spans_invocations ON spans (function_name, (coalesce(function_version, '')), start_time)
                INCLUDE (function_version, duration_ns, adjusted_count, status_code, faas_coldstart, warmup) WHERE kind = 2;
            CREATE INDEX spans_coldstart_phases ON spans (function_name, (coalesce(function_version, '')), start_time)
                INCLUDE (function_version, coldstart_phase, duration_ns, adjusted_count) WHERE coldstart_phase IS NOT NULL;
            CREATE INDEX spans_coldstart_records ON spans (function_name, (coalesce(function_version, '')), start_time)
                WHERE name = 'faas.coldstart' AND parent_span_id IS NULL;
            """),
    ];
}
