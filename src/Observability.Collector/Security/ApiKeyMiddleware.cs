using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Observability.Collector.Configuration;
using Observability.Collector.Metrics;

namespace Observability.Collector.Security;

/// <summary>
/// Runs after routing. An endpoint answers only on its own port (else 404), and only to a key of a scope it
/// accepts: write on the OTLP ports, read on the API port, metrics or read on /metrics (<see cref="AcceptsKeys"/>).
/// Unknown or missing key: 401; a valid key of another scope: 403. gRPC callers get UNAUTHENTICATED /
/// PERMISSION_DENIED instead. Each refusal says which key the endpoint needs.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, IOptions<CollectorOptions> options, CollectorMetrics metrics)
{
    private static readonly KeyScope[] WriteOnly = [KeyScope.Write];
    private static readonly KeyScope[] ReadOnly = [KeyScope.Read];

    private readonly KeyRing _keys = new(options.Value);

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

        var accepted = endpoint?.Metadata.GetMetadata<AcceptsKeys>()?.Scopes ?? (role == ListenerRole.Api ? ReadOnly : WriteOnly);
        var presented = PresentedKey(http.Request, role);
        var scope = presented is null ? null : _keys.ScopeOf(presented);
        if (scope is { } valid && Array.IndexOf(accepted, valid) >= 0)
        {
            return next(http);
        }

        return RefuseAsync(http, scope, accepted);
    }

    private Task RefuseAsync(HttpContext http, KeyScope? scope, KeyScope[] accepted)
    {
        var forbidden = scope is not null;
        metrics.RequestsRejected.WithLabels(forbidden ? "forbidden" : "unauthorized").Inc();
        var message = scope switch
        {
            null => $"missing or unknown key: {Needs(accepted)}, sent as Authorization: Bearer <key>" + (Listeners.RoleOf(http) == ListenerRole.Api ? " (or HTTP Basic with the key as password)" : string.Empty),
            KeyScope.Write => $"this is a write key, which may only ingest; {Needs(accepted)}",
            KeyScope.Read => $"this is a read key, which may only query and read /metrics; {Needs(accepted)}",
            KeyScope.Metrics => $"this is a metrics key, which may only read /metrics; {Needs(accepted)}",
            _ => throw new ArgumentOutOfRangeException(nameof(scope)),
        };
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
            // On the API port a browser is a client too (the UI, a dump download): the Basic challenge makes it
            // prompt once, and then send the key with every request to the realm.
            http.Response.Headers.WWWAuthenticate = Listeners.RoleOf(http) == ListenerRole.Api
                ? new Microsoft.Extensions.Primitives.StringValues(["Bearer", "Basic realm=\"obs\", charset=\"UTF-8\""])
                : "Bearer";
        }

        return http.Response.WriteAsJsonAsync(new { error = message });
    }

    private static string Needs(KeyScope[] accepted) => accepted switch
    {
        [KeyScope.Write] => "OTLP ingest needs the write key",
        [KeyScope.Read] => "queries, snapshots and the UI need the read key",
        _ when accepted.Contains(KeyScope.Metrics) => "/metrics needs the metrics key (or the read key)",
        _ => "this endpoint needs the " + string.Join(" or ", accepted.Select(s => s.ToString().ToLowerInvariant())) + " key",
    };

    /// <summary>The key of <c>Authorization: Bearer KEY</c>; on the API port also the password of <c>Basic</c> (the user name is ignored).</summary>
    private static byte[]? PresentedKey(HttpRequest request, ListenerRole? role)
    {
        var header = request.Headers.Authorization.ToString();
        const string BearerPrefix = "Bearer ";
        const string BasicPrefix = "Basic ";
        if (header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return Encoding.UTF8.GetBytes(header[BearerPrefix.Length..].Trim());
        }

        if (role != ListenerRole.Api || !header.StartsWith(BasicPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var encoded = header[BasicPrefix.Length..].Trim();
        var decoded = new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, decoded, out var length))
        {
            return null;
        }

        var colon = Array.IndexOf(decoded, (byte)':', 0, length);
        return colon < 0 ? null : decoded[(colon + 1)..length];
    }
}
