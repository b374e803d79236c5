using Npgsql;

namespace Observability.Hosting;

/// <summary>Accepts the two forms people have at hand: postgres://user:pass@host:port/db?sslmode=… or an Npgsql connection string.</summary>
public static class DatabaseUrls
{
    /// <returns>Null when the value is usable (the connection string is in <paramref name="connectionString"/>), else why not.</returns>
    public static string? TryToConnectionString(string value, out string connectionString)
    {
        connectionString = string.Empty;
        try
        {
            var builder = value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
                ? FromUrl(new Uri(value))
                : new NpgsqlConnectionStringBuilder(value);
            if (string.IsNullOrEmpty(builder.Host))
            {
                return "it names no host";
            }

            connectionString = builder.ConnectionString;
            return null;
        }
        catch (Exception e) when (e is ArgumentException or UriFormatException or FormatException or KeyNotFoundException)
        {
            return e.Message;
        }
    }

    public static string ToConnectionString(string value) =>
        TryToConnectionString(value, out var cs) is { } error ? throw new ArgumentException(error, nameof(value)) : cs;

    private static NpgsqlConnectionStringBuilder FromUrl(Uri url)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = url.Host,
            Port = url.IsDefaultPort || url.Port <= 0 ? 5432 : url.Port,
            Database = Uri.UnescapeDataString(url.AbsolutePath.TrimStart('/')) is { Length: > 0 } db ? db : "postgres",
        };
        if (url.UserInfo.Length > 0)
        {
            var parts = url.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        foreach (var pair in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : string.Empty;
            builder[key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] = value;
        }

        return builder;
    }
}
