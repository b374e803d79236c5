using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Observability.Collector.Configuration;
using Observability.Collector.Metrics;

namespace Observability.Collector.Security;

/// <summary>
/// Runs after routing. An endpoint answers only on its own port (else 404), and only to the right key:
/// the write key on the OTLP ports, the read key on the API port. Unknown or missing key: 401; a valid key
/// of the other kind: 403. gRPC callers get UNAUTHENTICATED / PERMISSION_DENIED instead.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, IOptions<CollectorOptions> options, CollectorMetrics metrics)
{
    private readonly byte[][] _writeKeys = ApiKeys.Parse(options.Value.WriteKey).Select(Encoding.UTF8.GetBytes).ToArray();
    private readonly byte[][] _readKeys = ApiKeys.Parse(options.Value.ReadKey).Select(Encoding.UTF8.GetBytes).ToArray();

    public Task InvokeAsync(HttpContext http)
    {
        var role = Listeners.RoleOf(http);
        var endpoint = http.GetEndpoint();
        var servedOn = endpoint?.Metadata.GetMetadata<ServedOn>();
        if (endpoint is not null && servedOn is not null && servedOn.Role != role)
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (endpoint?.Metadata.GetMetadata<Anonymous>() is not null)
        {
            return next(http);
        }

        var (needed, other) = role == ListenerRole.Api ? (_readKeys, _writeKeys) : (_writeKeys, _readKeys);
        var presented = BearerToken(http.Request);
        if (presented is not null && Matches(presented, needed))
        {
            return next(http);
        }

        var forbidden = presented is not null && Matches(presented, other);
        metrics.RequestsRejected.WithLabels(forbidden ? "forbidden" : "unauthorized").Inc();
        var message = forbidden
            ? (role == ListenerRole.Api ? "this key may only write; queries need the read key" : "this key may only read; ingest needs the write key")
            : "missing or unknown key: send Authorization: Bearer <key>";
        if (http.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
        {
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.ContentType = "application/grpc";
            http.Response.AppendTrailer("grpc-status", forbidden ? "7" : "16");
            http.Response.AppendTrailer("grpc-message", message);
            return Task.CompletedTask;
        }

        http.Response.StatusCode = forbidden ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized;
        if (!forbidden)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
        }

        return http.Response.WriteAsJsonAsync(new { error = message });
    }

    private static byte[]? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string Prefix = "Bearer ";
        return header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) ? Encoding.UTF8.GetBytes(header[Prefix.Length..].Trim()) : null;
    }

    private static bool Matches(byte[] presented, byte[][] keys)
    {
        var match = false;
        foreach (var key in keys)
        {
            match |= CryptographicOperations.FixedTimeEquals(presented, key);
        }

        return match;
    }
}
