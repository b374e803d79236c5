using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Observability.WarmUp.Tests.Scheduling;

/// <summary>
/// A real HTTP endpoint on loopback that answers warm-up pings as the sidecar's WarmUpGate does (X-Obs-Warmup-Cold,
/// only for the right token), and can be told to fail or to hang its first requests: what the scheduler's retry
/// and at-least-once tests need from a sidecar and a real sidecar cannot be made to do on cue.
/// </summary>
internal sealed class PingTarget : IAsyncDisposable
{
    public const string Token = "scheduler-tests-token-4b7e19";

    private readonly WebApplication _app;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _requests;
    private int _pings;

    private PingTarget(WebApplication app) => _app = app;

    /// <summary>Requests that carried the right token.</summary>
    public int Pings => Volatile.Read(ref _pings);

    /// <summary>When the first ping arrived (real time).</summary>
    public DateTimeOffset? FirstPingAt { get; private set; }

    /// <summary>All requests, with or without the token.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public Uri Url { get; private set; } = null!;

    /// <summary>The first this many pings are answered 503.</summary>
    public int FailFirst { get; init; }

    /// <summary>The first this many pings hang until <see cref="Release"/> (or the caller goes away).</summary>
    public int HangFirst { get; init; }

    public static async Task<PingTarget> StartAsync(int failFirst = 0, int hangFirst = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var target = new PingTarget(app) { FailFirst = failFirst, HangFirst = hangFirst };
        app.MapGet("/{**path}", (Delegate)target.AnswerAsync);
        await app.StartAsync();
        target.Url = new Uri(app.Urls.First() + "/");
        return target;
    }

    public void Release() => _release.TrySetResult();

    private async Task<IResult> AnswerAsync(HttpContext http)
    {
        Interlocked.Increment(ref _requests);
        if (http.Request.Headers["X-Obs-Warmup"] != Token)
        {
            return Results.Text("not a ping");
        }

        var n = Interlocked.Increment(ref _pings);
        if (n == 1)
        {
            FirstPingAt = DateTimeOffset.UtcNow;
        }

        if (n <= HangFirst)
        {
            await _release.Task.WaitAsync(http.RequestAborted);
        }

        if (n <= FailFirst)
        {
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        }

        // Like the sidecar: the first ping starts the function (cold), the later ones find it running.
        http.Response.Headers["X-Obs-Warmup-Cold"] = n == 1 + FailFirst ? "true" : "false";
        return Results.Text("pong");
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
