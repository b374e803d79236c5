using Observability.Collector.Analysis;

namespace Observability.Collector.Tests.Analysis;

/// <summary>What a failure group is keyed by: frames without locations or compiler numbers, paths without ids.</summary>
public sealed class FailureFingerprintTests
{
    internal const string StackV1 = """
        System.NullReferenceException: Object reference not set to an instance of an object.
           at Orders.Handlers.<>c__DisplayClass3_0.<Map>b__0_1(HttpContext ctx) in /src/v1/Handlers.cs:line 42
           at Orders.Services.PriceService.<QuoteAsync>d__12.MoveNext() in /src/v1/PriceService.cs:line 88
        --- End of stack trace from previous location ---
           at System.Runtime.CompilerServices.TaskAwaiter.ThrowForNonSuccess(Task task)
           at Orders.Program.<>c.<<Main>$>b__0_0(RequestDelegate next) in /src/v1/Program.cs:line 10
           at lambda_method12(Closure, Object, HttpContext)
           at Microsoft.AspNetCore.Routing.EndpointMiddleware.Invoke(HttpContext httpContext)
           at Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware.Invoke(HttpContext context)
        """;

    // The same failure after a rebuild: other line numbers, paths and compiler-generated numbers.
    internal const string StackV2 = """
        System.NullReferenceException: Object reference not set to an instance of an object.
           at Orders.Handlers.<>c__DisplayClass5_2.<Map>b__0_3(HttpContext ctx) in /build/v2/Handlers.cs:line 45
           at Orders.Services.PriceService.<QuoteAsync>d__14.MoveNext() in /build/v2/PriceService.cs:line 91
        --- End of stack trace from previous location ---
           at System.Runtime.CompilerServices.TaskAwaiter.HandleNonSuccessAndDebuggerNotification(Task task)
           at Orders.Program.<>c.<<Main>$>b__0_7(RequestDelegate next) in /build/v2/Program.cs:line 11
           at lambda_method40(Closure, Object, HttpContext)
           at Microsoft.AspNetCore.Routing.EndpointMiddleware.Invoke(HttpContext httpContext)
        """;

    internal static readonly string[] ExpectedFrames =
    [
        "Orders.Handlers.<>c__DisplayClassN.<Map>b__N(HttpContext ctx)",
        "Orders.Services.PriceService.<QuoteAsync>d__N.MoveNext()",
        "Orders.Program.<>c.<<Main>$>b__N(RequestDelegate next)",
        "lambda_methodN(Closure, Object, HttpContext)",
        "Microsoft.AspNetCore.Routing.EndpointMiddleware.Invoke(HttpContext httpContext)",
    ];

    [Fact]
    public void The_top_five_frames_lose_locations_compiler_numbers_and_async_plumbing()
    {
        Assert.Equal(ExpectedFrames, FailureFingerprint.Frames(StackV1));
        Assert.Equal(ExpectedFrames, FailureFingerprint.Frames(StackV2));
    }

    [Fact]
    public void A_rebuild_keeps_the_fingerprint_and_another_exception_type_or_function_changes_it()
    {
        string Of(string function, string type, string stack) =>
            FailureFingerprint.Of(FailureFingerprint.Signature(function, type, stack, "status_5xx", 500, "/orders/{id}", "/orders/1"));

        var v1 = Of("orders", "System.NullReferenceException", StackV1);

        Assert.Equal(v1, Of("orders", "System.NullReferenceException", StackV2));
        Assert.NotEqual(v1, Of("orders", "System.InvalidOperationException", StackV1));
        Assert.NotEqual(v1, Of("billing", "System.NullReferenceException", StackV1));
        Assert.Matches("^[0-9a-f]{16}$", v1);
    }

    [Fact]
    public void Node_frames_lose_line_and_column_and_addresses_become_placeholders()
    {
        Assert.Equal("handler (/app/index.js)", FailureFingerprint.NormaliseFrame("handler (/app/index.js:10:5)"));
        Assert.Equal("/app/index.js", FailureFingerprint.NormaliseFrame("/app/index.js:3:17"));
        Assert.Equal("libcoreclr.so!Foo+0x?", FailureFingerprint.NormaliseFrame("libcoreclr.so!Foo+0x1a2b"));
        Assert.Equal("App.Jobs.<Run>g__Local|N()", FailureFingerprint.NormaliseFrame("App.Jobs.<Run>g__Local|4_0()"));
    }

    [Fact]
    public void Without_an_exception_the_group_is_trigger_status_and_route_and_ids_in_paths_are_replaced()
    {
        var signature = FailureFingerprint.Signature("orders", null, null, "timeout", 504, null, "/orders/123/items/3f2b1c4e-0000-4000-8000-000000000001?debug=1");

        Assert.Equal(("timeout", 504, "/orders/{id}/items/{id}"), (signature.Trigger, signature.StatusCode, signature.Route));
        Assert.Empty(signature.Frames);
        Assert.Equal("/orders/{id}", FailureFingerprint.Signature("orders", null, null, "timeout", 504, "/orders/{id}", "/orders/9").Route);
    }
}
