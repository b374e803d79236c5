using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Observability.Sidecar.Tests.Diagnostics;

/// <summary>Writes log lines to the test's output, so a failing test shows what the monitor logged.</summary>
internal sealed class TestOutputLogger(ITestOutputHelper output) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} [{eventId.Id}] {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}");
        }
        catch (InvalidOperationException)
        {
            // Logged after the test ended (an event-reading thread): nowhere to write.
        }
    }
}
