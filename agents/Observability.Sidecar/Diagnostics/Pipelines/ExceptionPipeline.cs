using System.Text.Json;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Extensions.Logging;

namespace Observability.Sidecar.Diagnostics.Pipelines;

/// <summary>
/// Exceptions from the light session: the runtime's exception events (type and message, as thrown), completed by
/// the app's ILogger error logs (the full text with the stack). Handlers run on the session's reading thread.
/// </summary>
/// <param name="unhandled">Called for an exception the app reports as unhandled.</param>
internal sealed class ExceptionPipeline(Action<RuntimeException> unhandled)
{
    private const int ExceptionsKept = 50;
    private const string ZeroTraceId = "00000000000000000000000000000000";
    private readonly ExceptionLog _exceptions = new(ExceptionsKept);

    /// <summary>Exceptions the runtime reported at or after <paramref name="sinceUtc"/> (of the last 50), newest last.</summary>
    public IReadOnlyList<RuntimeException> Since(DateTime sinceUtc) => _exceptions.Since(sinceUtc);

    public void Subscribe(EventPipeEventSource source)
    {
        source.Clr.ExceptionStart += e =>
            _exceptions.Thrown(new RuntimeException(e.TimeStamp.ToUniversalTime(), e.ExceptionType, e.ExceptionMessage, null, e.ThreadID));
        source.Dynamic.AddCallbackForProviderEvent(SessionProviders.Logging, "MessageJson", OnErrorLog);
    }

    /// <summary>
    /// Critical logs with an exception, and the error logs hosts write for exceptions nobody handled: Kestrel's
    /// "ApplicationError" ("An unhandled exception was thrown by the application"), the exception-handler and
    /// developer-page middlewares' "UnhandledException".
    /// </summary>
    internal static bool IsUnhandled(int level, string? eventName, string? message) =>
        level >= (int)LogLevel.Critical
        || eventName == "ApplicationError"
        || (eventName?.Contains("Unhandled", StringComparison.OrdinalIgnoreCase) ?? false)
        || (message?.Contains("unhandled exception", StringComparison.OrdinalIgnoreCase) ?? false);

    // An ILogger error log (MessageJson). With an exception, its JSON carries the exception's full text: the stack.
    private void OnErrorLog(TraceEvent e)
    {
        if (e.PayloadByName("ExceptionJson") is not string { Length: > 2 } json)
        {
            return; // "{}": logged without an exception
        }

        string type, message, text;
        try
        {
            using var document = JsonDocument.Parse(json);
            type = Text(document.RootElement, "TypeName");
            message = Text(document.RootElement, "Message");
            text = Text(document.RootElement, "VerboseMessage");
        }
        catch (JsonException)
        {
            return;
        }

        // Activity.Current's trace id when the app logged it (.NET 9 and later): the sidecar passed its traceparent on,
        // so in a request ASP.NET Core's activity has the invocation span's trace id.
        var traceId = e.PayloadByName("ActivityTraceId") is string { Length: 32 } id && id != ZeroTraceId ? id : null;
        var exception = _exceptions.Logged(e.TimeStamp.ToUniversalTime(), type, message, text.Length > 0 ? text : $"{type}: {message}", e.ThreadID, traceId);

        // The session asks for Error and above only.
        var level = e.PayloadByName("Level") is int logLevel ? logLevel : (int)LogLevel.Error;
        if (IsUnhandled(level, e.PayloadByName("EventName") as string, e.PayloadByName("FormattedMessage") as string))
        {
            unhandled(exception);
        }

        static string Text(JsonElement root, string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
    }
}
