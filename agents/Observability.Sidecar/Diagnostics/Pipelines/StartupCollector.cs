using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace Observability.Sidecar.Diagnostics.Pipelines;

/// <summary>
/// Turns the verbose startup session (loader, JIT, GC) into a <see cref="StartupProfile"/>. Its handlers run on that
/// session's reader thread only; <see cref="Profile"/> is read after the session has been drained.
/// </summary>
internal sealed class StartupCollector
{
    private const int Slowest = 10;
    private readonly Dictionary<(int Thread, string Name), double> _assemblyStarts = [];
    private readonly List<TimedItem> _assemblies = [];
    private readonly Dictionary<long, double> _jitStarts = [];
    private readonly List<TimedItem> _methods = [];
    private int _assembliesLoaded;
    private int _gcCount;
    private double? _suspendStart;
    private double _gcPause;
    private int _events;

    public void Subscribe(EventPipeEventSource source)
    {
        source.AllEvents += _ => _events++;
        source.Clr.LoaderAssemblyLoad += _ => _assembliesLoaded++;
        // Start/Stop nest (an assembly's load can load its dependencies), so pair them by thread and name.
        source.Clr.AssemblyLoaderStart += e => _assemblyStarts[(e.ThreadID, e.AssemblyName)] = e.TimeStampRelativeMSec;
        source.Clr.AssemblyLoaderStop += e =>
        {
            if (_assemblyStarts.Remove((e.ThreadID, e.AssemblyName), out var start) && e.Success && !e.Cached)
            {
                _assemblies.Add(new(ShortAssemblyName(e.AssemblyName), e.TimeStampRelativeMSec - start));
            }
        };
        // JittingStarted (Verbose) opens a compilation; MethodLoadVerbose for the same method closes it.
        source.Clr.MethodJittingStarted += e => _jitStarts[e.MethodID] = e.TimeStampRelativeMSec;
        source.Clr.MethodLoadVerbose += e =>
        {
            if (_jitStarts.Remove(e.MethodID, out var start))
            {
                _methods.Add(new(MethodName(e), e.TimeStampRelativeMSec - start));
            }
        };
        source.Clr.GCStart += _ => _gcCount++;
        // The pause is the execution engine's suspension: from suspend start to restart end.
        source.Clr.GCSuspendEEStart += e => _suspendStart = e.TimeStampRelativeMSec;
        source.Clr.GCRestartEEStop += e =>
        {
            if (_suspendStart is { } start)
            {
                _gcPause += e.TimeStampRelativeMSec - start;
                _suspendStart = null;
            }
        };
    }

    public StartupProfile Profile() => new(
        _assembliesLoaded,
        Top(_assemblies),
        _methods.Count,
        _methods.Sum(m => m.Milliseconds),
        Top(_methods),
        _gcCount,
        _gcPause,
        _events);

    private static TimedItem[] Top(List<TimedItem> items) =>
        [.. items.OrderByDescending(i => i.Milliseconds).Take(Slowest).Select(i => i with { Milliseconds = Math.Round(i.Milliseconds, 3) })];

    // "System.Private.CoreLib, Version=..., Culture=neutral, PublicKeyToken=..." -> "System.Private.CoreLib".
    private static string ShortAssemblyName(string name) => name.Split(',', 2)[0];

    private static string MethodName(MethodLoadUnloadVerboseTraceData e) =>
        string.IsNullOrEmpty(e.MethodNamespace) ? e.MethodName : $"{e.MethodNamespace}.{e.MethodName}";
}
