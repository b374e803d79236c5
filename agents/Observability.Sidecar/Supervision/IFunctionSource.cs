namespace Observability.Sidecar.Supervision;

/// <summary>
/// Where the function's processes come from: <see cref="SupervisedFunction"/> launches them (supervise mode),
/// <see cref="AttachedFunction"/> finds ones it did not start (attach mode). <see cref="FunctionSupervisor"/>
/// picks one from the settings and is all the rest of the sidecar sees.
/// </summary>
internal interface IFunctionSource : IAsyncDisposable
{
    /// <summary>The running instance, if any.</summary>
    FunctionInstance? Current { get; }

    /// <summary>Stopped for idleness and to be started by the next request (supervise mode only).</summary>
    bool ScaledToZero { get; }

    /// <summary>Starts launching or looking for the function, without waiting for it.</summary>
    Task StartAsync(CancellationToken ct);

    /// <summary>An instance to send a request to, once it accepts connections; throws <see cref="TimeoutException"/> after ReadyTimeout.</summary>
    Task<FunctionInstance> ReadyInstanceAsync(DateTime requestReceived, CancellationToken ct);

    /// <summary>Marks a request in flight until disposed.</summary>
    IDisposable BeginRequest();
}
