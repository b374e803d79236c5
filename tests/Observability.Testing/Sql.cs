using Npgsql;

namespace Observability.Testing;

/// <summary>Reads the test database directly, to check what was really stored.</summary>
public static class Sql
{
    public static async Task<T> ScalarAsync<T>(string connectionString, string sql, params object[] parameters)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var p in parameters)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        return (T)(await cmd.ExecuteScalarAsync())!;
    }
}
