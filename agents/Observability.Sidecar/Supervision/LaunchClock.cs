namespace Observability.Sidecar.Supervision;

/// <summary>
/// When a process the sidecar launched started, as finely as two clocks allow. The kernel's start time
/// (/proc/PID/stat) is the fork, truncated to a 10 ms clock tick; the sidecar's own clock read just before and
/// just after Process.Start brackets the fork too, far more finely (Process.Start returns once the child has
/// exec'd). The fork lies in both ranges; the latest moment in both is taken, because the program's first
/// instruction comes right after the exec, which Process.Start waited for.
/// </summary>
internal static class LaunchClock
{
    /// <summary>USER_HZ: /proc counts process start times in hundredths of a second on every Linux architecture.</summary>
    public static readonly TimeSpan KernelTick = TimeSpan.FromMilliseconds(10);

    /// <returns>The start, and how far it may be off: the width of the range both clocks allow.</returns>
    public static Moment ProcessStart(DateTime kernel, DateTime beforeLaunch, DateTime afterLaunch)
    {
        var earliest = kernel > beforeLaunch ? kernel : beforeLaunch;
        var latest = kernel + KernelTick < afterLaunch ? kernel + KernelTick : afterLaunch;
        if (latest >= earliest)
        {
            return new(latest, latest - earliest);
        }

        // The ranges do not meet (the kernel's figure is off, e.g. the clock was stepped): trust our own bracket.
        return new(kernel < beforeLaunch ? beforeLaunch : afterLaunch, afterLaunch - beforeLaunch);
    }
}
