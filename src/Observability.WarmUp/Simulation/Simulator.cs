using Observability.WarmUp.Policies;

namespace Observability.WarmUp.Simulation;

/// <summary>
/// Replays a trace against a policy and a platform model, event by event (invocations and planned pings; no
/// clock ticks in between). The platform keeps one instance per function: it goes cold after the keep-alive
/// of idleness; an invocation or a ping resets it; an invocation or ping that finds it cold pays the cold start.
/// Invocations take no time (traces have no durations) and concurrent invocations share the one instance.
/// <para>
/// A function is known from its first invocation (as the planner discovers functions from the collector's
/// inventory): its first invocation is cold under every policy. After each invocation and each ping the policy
/// is asked for its next ping; a ping planned before the next invocation is sent (an invocation at the same
/// instant wins). The idle-time histogram learns online, from the gaps seen so far.
/// </para>
/// </summary>
public static class Simulator
{
    private static readonly TimeSpan MinimumPingSpacing = TimeSpan.FromSeconds(1);

    /// <summary>Replays every function of the trace (in parallel); <c>progress</c> is called with the number of functions finished, from any thread.</summary>
    public static PolicyResult Run(InvocationTrace trace, string policyName, SimulationOptions options, Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(options);
        var policy = WarmUpPolicies.Create(policyName, options.Settings);
        var results = new FunctionResult[trace.Functions.Count];
        var done = 0;
        Parallel.For(0, trace.Functions.Count, i =>
        {
            results[i] = Replay(trace.Functions[i], trace.End, policy, options);
            var finished = Interlocked.Increment(ref done);
            progress?.Invoke(finished);
        });

        return Summarise(policy.Name, trace, results);
    }

    internal static FunctionResult Replay(FunctionTrace function, DateTimeOffset end, IWarmUpPolicy policy, SimulationOptions options)
    {
        var state = new ReplayState(function.Name, options);
        var invocations = function.Invocations;
        for (var i = 0; i < invocations.Length; i++)
        {
            state.Invoke(invocations[i]);
            var limit = i + 1 < invocations.Length ? invocations[i + 1] : end;
            PingUntil(state, policy, invocations[i], limit);
        }

        return state.Finish(end);
    }

    // Sends the pings the policy plans before the limit (the next invocation, or the end of the trace).
    private static void PingUntil(ReplayState state, IWarmUpPolicy policy, DateTimeOffset now, DateTimeOffset limit)
    {
        while (policy.NextPing(state.Activity(now), now) is { } planned)
        {
            var at = planned < now ? now : planned;
            if (state.LastPing is { } last && at < last + MinimumPingSpacing)
            {
                at = last + MinimumPingSpacing; // a policy that asks twice for the same instant must not stall the replay
            }

            if (at >= limit)
            {
                return;
            }

            if (state.TryPing(at))
            {
                now = at;
            }
            else
            {
                now = at + SimulationOptions.RetryAfterRefusal;
                if (now >= limit)
                {
                    return;
                }
            }
        }
    }

    private static PolicyResult Summarise(string policy, InvocationTrace trace, FunctionResult[] results)
    {
        var invocations = results.Sum(r => r.Invocations);
        var coldStarts = results.Sum(r => r.ColdStarts);
        var rates = results.Where(r => r.Invocations > 0).Select(r => (double)r.ColdStarts / r.Invocations).Order().ToArray();
        var pings = results.Sum(r => r.Pings);
        var warmMinutes = results.Sum(r => r.WarmTime.TotalMinutes);
        var functionDays = results.Length * trace.Days;
        return new PolicyResult(
            policy,
            results.Length,
            trace.Days,
            invocations,
            coldStarts,
            invocations == 0 ? 0 : (double)coldStarts / invocations,
            NearestRank(rates, 0.50),
            NearestRank(rates, 0.90),
            NearestRank(rates, 0.99),
            pings,
            results.Sum(r => r.ColdPings),
            functionDays == 0 ? 0 : pings / functionDays,
            results.Sum(r => r.PingsSkipped),
            warmMinutes,
            functionDays == 0 ? 0 : warmMinutes / functionDays);
    }

    /// <summary>The nearest-rank percentile of sorted values: the value at rank ceil(p * n).</summary>
    internal static double NearestRank(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    internal readonly record struct FunctionResult(long Invocations, long ColdStarts, long Pings, long ColdPings, long PingsSkipped, TimeSpan WarmTime);

    // One function's platform instance and what the policy is told about it.
    private sealed class ReplayState(string function, SimulationOptions options)
    {
        private readonly TimeSpan _platformKeepAlive = options.PlatformKeepAlive ?? options.Settings.KeepAlive;
        private readonly TimeSpan _believedKeepAlive = options.Settings.KeepAlive;
        private readonly IdleTimeHistogram _histogram = new();
        private readonly PingBudget? _budget = options.BudgetPerHour is { } perHour ? new PingBudget(perHour) : null;
        private readonly Queue<DateTimeOffset> _signals = new();
        private DateTimeOffset? _lastActivity;
        private DateTimeOffset _warmSince;
        private TimeSpan _warmTime;
        private long _invocations;
        private long _coldStarts;
        private long _pings;
        private long _coldPings;
        private long _skipped;

        public DateTimeOffset? LastInvocation { get; private set; }

        public DateTimeOffset? LastPing { get; private set; }

        public FunctionActivity Activity(DateTimeOffset now)
        {
            while (_signals.Count > 0 && _signals.Peek() <= now - SimulationOptions.SignalWindow)
            {
                _signals.Dequeue();
            }

            return new FunctionActivity(function, LastInvocation, LastPing, _histogram, _signals.Count);
        }

        public void Invoke(DateTimeOffset at)
        {
            if (LastInvocation is { } previous)
            {
                _histogram.Add(at - previous);
            }

            _invocations++;
            if (Touch(at))
            {
                _coldStarts++;
            }

            LastInvocation = at;
        }

        public bool TryPing(DateTimeOffset at)
        {
            if (_budget is not null && !_budget.TrySpend(at))
            {
                _skipped++;
                return false;
            }

            _pings++;
            if (Touch(at))
            {
                _coldPings++;
            }

            LastPing = at;
            return true;
        }

        public FunctionResult Finish(DateTimeOffset end)
        {
            if (_lastActivity is { } last)
            {
                var warmUntil = last + _platformKeepAlive;
                _warmTime += (warmUntil < end ? warmUntil : end) - _warmSince;
            }

            return new FunctionResult(_invocations, _coldStarts, _pings, _coldPings, _skipped, _warmTime);
        }

        // Uses the instance at `at`; true when it was cold. A cold start the policy believed it had prevented
        // (the last activity was within the keep-alive the policy was told) is a closed-loop signal.
        private bool Touch(DateTimeOffset at)
        {
            var cold = _lastActivity is not { } last || at - last >= _platformKeepAlive;
            if (cold)
            {
                if (_lastActivity is { } previous)
                {
                    _warmTime += previous + _platformKeepAlive - _warmSince;
                    if (at - previous < _believedKeepAlive)
                    {
                        _signals.Enqueue(at);
                    }
                }

                _warmSince = at;
            }

            _lastActivity = at;
            return cold;
        }
    }
}
