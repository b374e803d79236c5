using System.Globalization;

namespace Observability.Bench;

/// <summary>
/// CPU time of this process (load client and in-process collector) and of the whole machine (that plus
/// PostgreSQL plus anything else sharing the cores, from /proc/stat), as a running total or a difference.
/// </summary>
internal readonly record struct CpuUse(TimeSpan Process, TimeSpan Machine, TimeSpan MachineCapacity)
{
    // /proc/stat counts in USER_HZ ticks, 100 per second on Linux.
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);

    /// <summary>Share of all cores that was busy, 0 to 1; NaN without /proc/stat.</summary>
    public double MachineBusy => MachineCapacity == TimeSpan.Zero ? double.NaN : Machine / MachineCapacity;

    public static CpuUse Now()
    {
        var process = Environment.CpuUsage.TotalTime;
        if (!File.Exists("/proc/stat"))
        {
            return new CpuUse(process, TimeSpan.Zero, TimeSpan.Zero);
        }

        // cpu  user nice system idle iowait irq softirq steal ...
        var ticks = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var total = ticks.Sum();
        return new CpuUse(process, (total - ticks[3] - ticks[4]) * Tick, total * Tick);
    }

    public static CpuUse operator -(CpuUse after, CpuUse before) =>
        new(after.Process - before.Process, after.Machine - before.Machine, after.MachineCapacity - before.MachineCapacity);

    public static CpuUse operator +(CpuUse a, CpuUse b) =>
        new(a.Process + b.Process, a.Machine + b.Machine, a.MachineCapacity + b.MachineCapacity);
}
