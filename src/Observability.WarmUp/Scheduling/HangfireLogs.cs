using Microsoft.Extensions.Logging;
using HangfireLogLevel = Hangfire.Logging.LogLevel;

namespace Observability.WarmUp.Scheduling;

/// <summary>
/// Hangfire's log provider is process-wide; the schedulers in a process (one in production, several in the tests)
/// come and go with their own logger factories. This provider writes to the newest live one, so that a scheduler
/// that stopped never leaves Hangfire logging into its disposed factory.
/// </summary>
internal sealed class HangfireLogs : Hangfire.Logging.ILogProvider
{
    public static readonly HangfireLogs Instance = new();

    private readonly List<ILoggerFactory> _live = [];

    private HangfireLogs()
    {
    }

    /// <summary>Makes <paramref name="factory"/> receive Hangfire's logs until the returned handle is disposed.</summary>
    public IDisposable Attach(ILoggerFactory factory)
    {
        lock (_live)
        {
            _live.Add(factory);
        }

        return new Attachment(this, factory);
    }

    public Hangfire.Logging.ILog GetLogger(string name) => new LogAdapter(this, name);

    private ILogger? Current(string name)
    {
        lock (_live)
        {
            return _live.Count == 0 ? null : _live[^1].CreateLogger(name);
        }
    }

    private sealed class Attachment(HangfireLogs logs, ILoggerFactory factory) : IDisposable
    {
        public void Dispose()
        {
            lock (logs._live)
            {
                logs._live.Remove(factory);
            }
        }
    }

    private sealed class LogAdapter(HangfireLogs logs, string name) : Hangfire.Logging.ILog
    {
        public bool Log(HangfireLogLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            var logger = logs.Current(name);
            var level = logLevel switch
            {
                HangfireLogLevel.Trace => LogLevel.Trace,
                HangfireLogLevel.Debug => LogLevel.Debug,
                HangfireLogLevel.Info => LogLevel.Information,
                HangfireLogLevel.Warn => LogLevel.Warning,
                HangfireLogLevel.Error => LogLevel.Error,
                _ => LogLevel.Critical,
            };
            if (logger is null || !logger.IsEnabled(level))
            {
                return false;
            }

            if (messageFunc is not null)
            {
#pragma warning disable CA1848, CA2254 // Hangfire's own messages, formatted by Hangfire
                logger.Log(level, exception, messageFunc());
#pragma warning restore CA1848, CA2254
            }

            return true;
        }
    }
}
