using System.Collections.Frozen;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;

namespace Observability.Collector.Ui;

/// <summary>
/// Serves the web UI (built from src/Observability.Web and embedded as resources named "ui/…") under /ui/, and
/// redirects / there. A path that is not a file is a page of the single-page app (deep links such as
/// /ui/traces/{id}) and gets index.html; a missing asset is a 404.
/// </summary>
internal static class WebUiEndpoints
{
    private const string Prefix = "ui/";
    private static readonly Assembly Assembly = typeof(WebUiEndpoints).Assembly;
    private static readonly FrozenSet<string> Files = Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..])
        .ToFrozenSet(StringComparer.Ordinal);

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static IEndpointConventionBuilder MapWebUi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(string.Empty);
        group.MapGet("/", () => Results.Redirect("/ui/")).WithMetadata(new Security.Anonymous());
        group.MapGet("/ui/{**path}", Serve);
        return group;
    }

    private static IResult Serve(HttpContext http, string? path)
    {
        path ??= string.Empty;
        var headers = http.Response.Headers;
        // The UI shows request bodies and environments: no framing, no sniffing, nothing sent to other origins.
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

        if (Files.Contains(path))
        {
            // Vite names assets by content hash, so they never change; index.html always revalidates.
            headers.CacheControl = path.StartsWith("assets/", StringComparison.Ordinal) ? "private, max-age=31536000, immutable" : "no-cache";
            return Results.Stream(Open(path), ContentType(path));
        }

        if (Path.HasExtension(path) || !Files.Contains("index.html"))
        {
            return Results.NotFound(new { error = Files.Count == 0 ? "this collector was built without its web UI (npm was skipped)" : $"no file ui/{path}" });
        }

        headers.CacheControl = "no-cache";
        return Results.Stream(Open("index.html"), "text/html; charset=utf-8");
    }

    private static Stream Open(string path) => Assembly.GetManifestResourceStream(Prefix + path)!;

    private static string ContentType(string path) =>
        ContentTypes.TryGetContentType(path, out var type) ? type : "application/octet-stream";
}
