namespace Observability.Sidecar.Proxy;

/// <summary>
/// The configured route templates (<c>/orders/{id}</c>, <c>/files/{*path}</c>), compiled once into segments, so
/// that naming a span costs a walk over the path with no allocation and no regular expression. The first template
/// that matches wins; literal segments compare case-insensitively, as ASP.NET Core's routing does, and one
/// trailing slash is ignored. A path no template matches has no route: its span is named by the method alone, as
/// the OpenTelemetry HTTP conventions say, so raw paths never become span names.
/// </summary>
internal sealed class RouteTable
{
    private readonly Route[] _routes;

    public RouteTable(IEnumerable<string> templates) => _routes = [.. templates.Select(t => new Route(t))];

    /// <summary>The first route whose template matches the path; null when none does.</summary>
    public Route? Match(string path)
    {
        var routes = _routes;
        if (routes.Length == 0)
        {
            return null;
        }

        var span = path.AsSpan();
        if (span.Length > 0 && span[^1] == '/')
        {
            span = span[..^1];
        }

        foreach (var route in routes)
        {
            if (route.Matches(span))
            {
                return route;
            }
        }

        return null;
    }

    /// <summary>Why a template cannot be used, or null when it can (checked when the sidecar starts).</summary>
    public static string? Problem(string template)
    {
        if (!template.StartsWith('/'))
        {
            return "must start with /";
        }

        var segments = template.Length == 1 ? [] : template[1..].TrimEnd('/').Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (segment.Length == 0)
            {
                return "has an empty segment (//)";
            }

            var braces = segment.Count(c => c is '{' or '}');
            if (braces == 0)
            {
                continue;
            }

            if (braces != 2 || segment[0] != '{' || segment[^1] != '}' || segment.Length < 3 || segment == "{*}")
            {
                return $"segment \"{segment}\" must be a literal or a whole {{name}} (parameters inside a segment are not supported)";
            }

            if (segment[1] == '*' && i != segments.Length - 1)
            {
                return $"catch-all \"{segment}\" must be the last segment";
            }
        }

        return null;
    }

    internal sealed class Route
    {
        // HTTP methods whose span names are made once; any other method's name is made per request.
        private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

        // Per segment: the literal, or null for a {parameter}.
        private readonly string?[] _segments;
        private readonly bool _catchAll;
        private readonly string[] _spanNames;

        public Route(string template)
        {
            Template = template;
            var segments = template.Length == 1 ? [] : template[1..].TrimEnd('/').Split('/');
            _catchAll = segments.Length > 0 && segments[^1].StartsWith("{*", StringComparison.Ordinal);
            _segments = [.. (_catchAll ? segments[..^1] : segments).Select(s => s.StartsWith('{') ? null : s)];
            _spanNames = [.. Methods.Select(m => $"{m} {template}")];
        }

        /// <summary>The template as configured: the value of http.route.</summary>
        public string Template { get; }

        /// <summary>"METHOD template": made once for the common methods.</summary>
        public string SpanName(string method)
        {
            for (var i = 0; i < Methods.Length; i++)
            {
                if (string.Equals(method, Methods[i], StringComparison.Ordinal))
                {
                    return _spanNames[i];
                }
            }

            return $"{method} {Template}";
        }

        /// <param name="path">The path without its trailing slash ("" for the root).</param>
        public bool Matches(ReadOnlySpan<char> path)
        {
            foreach (var literal in _segments)
            {
                if (path.Length == 0 || path[0] != '/')
                {
                    return false;
                }

                path = path[1..];
                var end = path.IndexOf('/');
                var segment = end < 0 ? path : path[..end];
                if (literal is null ? segment.Length == 0 : !segment.Equals(literal, StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }

                path = end < 0 ? [] : path[end..];
            }

            // A catch-all takes whatever is left (even nothing); otherwise nothing may be left.
            return _catchAll || path.Length == 0;
        }
    }
}
