using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Observability.WarmUp.Scheduling;

/// <summary>
/// Keys on the scheduler's port, as on the collector's: /hangfire takes the read key, /metrics the metrics key or
/// the read key, /healthz none. A key comes as <c>Authorization: Bearer KEY</c> or as HTTP Basic with the key as
/// the password (the user is ignored), so that a browser can open the dashboard: a refusal says
/// <c>WWW-Authenticate: Basic realm="obs"</c> and the browser asks.
/// </summary>
internal sealed class WarmUpKeyMiddleware(RequestDelegate next, IOptions<WarmUpOptions> options)
{
    private readonly byte[] _read = Hash(options.Value.ReadKey);
    private readonly byte[]? _metrics = options.Value.MetricsKey is { Length: > 0 } m ? Hash(m) : null;

    public Task InvokeAsync(HttpContext http)
    {
        var path = http.Request.Path;
        if (path.StartsWithSegments("/healthz"))
        {
            return next(http);
        }

        var presented = PresentedKey(http.Request);
        var hash = string.IsNullOrEmpty(presented) ? null : Hash(presented);
        var read = hash is not null && CryptographicOperations.FixedTimeEquals(hash, _read);
        var metrics = hash is not null && _metrics is not null && CryptographicOperations.FixedTimeEquals(hash, _metrics);
        var allowed = path.StartsWithSegments("/metrics") ? read || metrics : read;
        if (allowed)
        {
            return next(http);
        }

        if (metrics)
        {
            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            return http.Response.WriteAsJsonAsync(new { error = "this is a metrics key, which may only read /metrics; the Hangfire dashboard needs the read key" });
        }

        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = "Basic realm=\"obs\", Bearer";
        var needs = path.StartsWithSegments("/metrics") ? "the metrics key or the read key" : "the read key";
        return http.Response.WriteAsJsonAsync(new { error = $"missing or unknown key: {needs}, sent as Authorization: Bearer <key> or as the password of HTTP Basic" });
    }

    private static string? PresentedKey(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
                var colon = pair.IndexOf(':', StringComparison.Ordinal);
                return colon < 0 ? null : pair[(colon + 1)..];
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }

    // Digests compared in constant time: neither the keys' bytes nor their lengths leak through timing.
    private static byte[] Hash(string? key) => SHA256.HashData(Encoding.UTF8.GetBytes(key ?? string.Empty));
}
