using Npgsql;
using Observability.Hosting;
using Testcontainers.PostgreSql;

namespace Observability.Testing;

/// <summary>
/// A PostgreSQL server for tests: a Testcontainers container where a Docker engine answers, otherwise a
/// throwaway cluster from the machine's PostgreSQL binaries. One shared server per test run
/// (<see cref="Shared"/>); tests that stop the server start their own (<see cref="StartAsync"/>).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private static readonly Lazy<Task<PostgresServer>> SharedServer = new(async () =>
    {
        var server = await StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return server;
    });

    private readonly LocalPostgres? _local;
    private readonly PostgreSqlContainer? _container;
    private int _databases;

    private PostgresServer(LocalPostgres? local, PostgreSqlContainer? container)
    {
        _local = local;
        _container = container;
    }

    public static Task<PostgresServer> Shared => SharedServer.Value;

    /// <summary>"docker" or "local": which kind this run got.</summary>
    public string Kind => _container is null ? "local" : "docker";

    public string AdminConnectionString => _container?.GetConnectionString() ?? _local!.ConnectionString();

    /// <param name="durable">
    /// False (the default, for tests) turns fsync and synchronous commit off; true keeps PostgreSQL's own defaults,
    /// for benchmarks that report what a deployment gets.
    /// </param>
    public static async Task<PostgresServer> StartAsync(bool durable = false)
    {
        if (DockerAnswers())
        {
            var container = new PostgreSqlBuilder("postgres:16-alpine")
                .WithPortBinding(LocalPostgres.FreePort(), 5432)
                .WithCommand(durable ? ["-c", "max_connections=200"] : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "max_connections=200"])
                .Build();
            try
            {
                await container.StartAsync();
                return new PostgresServer(null, container);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                await container.DisposeAsync();
            }
        }

        return new PostgresServer(await LocalPostgres.StartAsync(durable: durable), null);
    }

    /// <summary>A new, empty database on this server; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{new string(prefix.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(40).ToArray())}_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid().ToString("N")[..8]}";
        await using var conn = new NpgsqlConnection(AdminConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
        await cmd.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    public Task StopAsync() => _container?.StopAsync() ?? _local!.StopServerAsync();

    public Task StartAgainAsync() => _container?.StartAsync() ?? _local!.StartServerAsync();

    public async ValueTask DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }

        if (_local is not null)
        {
            await _local.DisposeAsync();
        }
    }

    private static bool DockerAnswers()
    {
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
        if (!string.IsNullOrEmpty(host) && !host.StartsWith("unix://", StringComparison.Ordinal))
        {
            return true;
        }

        var socket = string.IsNullOrEmpty(host) ? "/var/run/docker.sock" : host["unix://".Length..];
        if (!File.Exists(socket))
        {
            return false;
        }

        try
        {
            using var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            s.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(socket));
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}

/// <summary>Class fixture: a fresh database on the shared server for one test class.</summary>
public sealed class PostgresDatabase : Xunit.IAsyncLifetime
{
    public string ConnectionString { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.Shared;
        ConnectionString = await server.CreateDatabaseAsync("test");
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
