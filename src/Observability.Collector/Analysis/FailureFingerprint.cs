using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Observability.Collector.Analysis;

/// <summary>What a failure snapshot is grouped by, and the fingerprint (a hash of it) that names its group.</summary>
/// <param name="Function">The function's name.</param>
/// <param name="ExceptionType">The exception the sidecar blamed, or null.</param>
/// <param name="Frames">With an exception: its top frames, normalised (see <see cref="FailureFingerprint"/>).</param>
/// <param name="Trigger">Without an exception: what triggered the snapshot (status_5xx, timeout, crash, ...).</param>
/// <param name="StatusCode">Without an exception: the response's status code.</param>
/// <param name="Route">Without an exception: the route (the span's http.route, else the path with ids replaced).</param>
public sealed record FailureSignature(string Function, string? ExceptionType, IReadOnlyList<string> Frames, string? Trigger, int? StatusCode, string? Route);

/// <summary>
/// Groups failure snapshots. A snapshot with an exception is grouped by function, exception type and its top
/// <see cref="TopFrames"/> frames; without one, by function, trigger, status code and route. Frames are normalised
/// so that a group survives a rebuild and a redeploy: file paths and line numbers are dropped, the numbers the C#
/// compiler puts in generated names (lambdas <c>&lt;Main&gt;b__0_1</c>, closures <c>&lt;&gt;c__DisplayClass3_0</c>,
/// async and iterator state machines <c>&lt;RunAsync&gt;d__12</c>, local functions <c>g__Local|2_0</c>,
/// <c>lambda_method42</c>) become <c>N</c>, hex addresses become <c>0x?</c>, and the async plumbing
/// (<c>--- End of stack trace ---</c>, <c>System.Runtime.CompilerServices</c> and
/// <c>System.Runtime.ExceptionServices</c> frames) is skipped.
/// </summary>
public static partial class FailureFingerprint
{
    public const int TopFrames = 5;

    public static FailureSignature Signature(string function, string? exceptionType, string? stackTrace, string? trigger, int? statusCode, string? route, string? path)
    {
        if (!string.IsNullOrWhiteSpace(exceptionType))
        {
            return new FailureSignature(function, exceptionType.Trim(), Frames(stackTrace), null, null, null);
        }

        return new FailureSignature(function, null, [], trigger, statusCode, string.IsNullOrWhiteSpace(route) ? NormalisePath(path) : route);
    }

    /// <summary>16 hex digits of the SHA-256 of the signature's parts: stable across processes and versions.</summary>
    public static string Of(FailureSignature signature)
    {
        var text = new StringBuilder()
            .Append(signature.Function).Append('\n')
            .Append(signature.ExceptionType).Append('\n')
            .AppendJoin('\n', signature.Frames).Append('\n')
            .Append(signature.Trigger).Append('\n')
            .Append(signature.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n')
            .Append(signature.Route);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    /// <summary>The top frames of a .NET or Node.js stack trace, normalised.</summary>
    public static IReadOnlyList<string> Frames(string? stackTrace)
    {
        if (string.IsNullOrWhiteSpace(stackTrace))
        {
            return [];
        }

        var frames = new List<string>(TopFrames);
        foreach (var raw in stackTrace.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith("at ", StringComparison.Ordinal))
            {
                continue; // the message line, "--- End of stack trace ... ---", "--- End of inner exception ---"
            }

            var frame = NormaliseFrame(line[3..]);
            if (frame.Length == 0 || frame.StartsWith("System.Runtime.CompilerServices.", StringComparison.Ordinal)
                || frame.StartsWith("System.Runtime.ExceptionServices.", StringComparison.Ordinal))
            {
                continue;
            }

            frames.Add(frame);
            if (frames.Count == TopFrames)
            {
                break;
            }
        }

        return frames;
    }

    /// <summary>One frame without its location and with the compiler's numbers replaced.</summary>
    public static string NormaliseFrame(string frame)
    {
        var text = DotNetLocation().Replace(frame, string.Empty); // " in /src/Foo.cs:line 42"
        text = NodeLocation().Replace(text, string.Empty);         // ":10:5" of "handler (/app/index.js:10:5)"
        text = GeneratedNumbers().Replace(text, "${name}N");
        text = LambdaMethod().Replace(text, "lambda_methodN");
        text = HexAddress().Replace(text, "0x?");
        return text.Trim();
    }

    /// <summary>A path with the segments that are ids (numbers, GUIDs, long hex) replaced, and no query.</summary>
    public static string? NormalisePath(string? pathAndQuery)
    {
        if (string.IsNullOrWhiteSpace(pathAndQuery))
        {
            return null;
        }

        var path = pathAndQuery.Split('?', 2)[0];
        return string.Join('/', path.Split('/').Select(s => IdSegment().IsMatch(s) ? "{id}" : s));
    }

    [GeneratedRegex(@"\s+in\s+\S.*:line\s+\d+\s*$")]
    private static partial Regex DotNetLocation();

    [GeneratedRegex(@":\d+:\d+(?=\)?\s*$)")]
    private static partial Regex NodeLocation();

    // <Main>b__0_1, <>c__DisplayClass3_0, <RunAsync>d__12, <<Main>$>g__Local|2_0, <>9__0_0.
    [GeneratedRegex(@"(?<name>\b(?:b__|d__|c__DisplayClass|9__|g__[A-Za-z0-9_]+?\|))\d+(?:_\d+)?")]
    private static partial Regex GeneratedNumbers();

    [GeneratedRegex(@"lambda_method\d+")]
    private static partial Regex LambdaMethod();

    [GeneratedRegex(@"0x[0-9A-Fa-f]+")]
    private static partial Regex HexAddress();

    [GeneratedRegex(@"^(\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,})$")]
    private static partial Regex IdSegment();
}
