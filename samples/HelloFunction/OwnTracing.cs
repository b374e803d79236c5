using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace HelloFunction;

/// <summary>
/// Opt-in (HELLO_TRACING=otlp): the function traces its own work with the OpenTelemetry SDK, as an instrumented
/// app would: one span per request, a child of the traceparent it received, sampled parent-based (so it is
/// exported exactly when the caller's span says sampled), exported over OTLP as the standard OTEL_EXPORTER_OTLP_*
/// variables say. In a class of its own so that without the opt-in the SDK's assemblies are never loaded.
/// </summary>
internal static class OwnTracing
{
    public const string SpanName = "hello.handle";

    private static readonly ActivitySource Source = new("HelloFunction");

    public static IDisposable Start(string functionName) =>
        Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService(functionName))
            .AddSource(Source.Name)
            .SetSampler(new ParentBasedSampler(new AlwaysOnSampler()))
            .AddOtlpExporter()
            .Build();

    public static async Task TraceAsync(HttpContext context, Func<Task> next)
    {
        var headers = context.Request.Headers;
        ActivityContext.TryParse(headers.TraceParent, headers.TraceState, isRemote: true, out var parent);
        using var span = Source.StartActivity(SpanName, ActivityKind.Internal, parent);
        span?.SetTag("url.path", context.Request.Path.Value);
        await next();
    }
}
