namespace Observability.WarmUp.Simulation;

/// <summary>
/// A seeded, reproducible synthetic trace mixing the function kinds the Azure Functions 2019 trace is known for
/// (Shahrad et al.: timers are the most common trigger, invocation rates span eight orders of magnitude, about
/// half of the applications are invoked at most once an hour):
/// <list type="bullet">
/// <item><c>timer</c> (30%): a fixed period of 1, 5, 10, 15, 30, 60, 120, 360 or 1440 minutes, firing on the
/// minute with a few seconds of delay.</item>
/// <item><c>http</c> (35%): bursts (about 3 calls a few seconds apart) arriving as a Poisson process whose rate
/// follows the day (peak in the afternoon, a tenth of it at night); 20 to 2,000 calls a day.</item>
/// <item><c>rare</c> (20%): hours between calls (exponential, mean 1 to 24 hours).</item>
/// <item><c>frequent</c> (15%): a few calls a minute (Poisson, 0.5 to 3 a minute).</item>
/// </list>
/// The same seed, function count and days always give the same trace (System.Random with a seed is stable).
/// </summary>
public static class SyntheticTrace
{
    /// <summary>Day 1 of a synthetic trace starts here (a Monday).</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);

    private static readonly int[] TimerPeriodsMinutes = [1, 5, 10, 15, 30, 60, 120, 360, 1440];

    public static InvocationTrace Generate(int functions, int days, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(functions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 1);
        var random = new Random(seed);
        var end = Epoch.AddDays(days);
        var list = new List<FunctionTrace>(functions);
        for (var i = 0; i < functions; i++)
        {
            // Each function draws from its own generator so that its invocations do not depend on the others'.
            var own = new Random(random.Next());
            var pick = own.NextDouble();
            var name = $"fn-{i:D5}";
            list.Add(pick switch
            {
                < 0.30 => new FunctionTrace(name, "timer", Timer(own, end)),
                < 0.65 => new FunctionTrace(name, "http", Http(own, end)),
                < 0.85 => new FunctionTrace(name, "rare", Rare(own, end)),
                _ => new FunctionTrace(name, "frequent", Frequent(own, end)),
            });
        }

        // A rare function may draw no invocation at all in a short trace; it is then not in the trace.
        return new InvocationTrace(Epoch, end, list.Where(f => f.Invocations.Length > 0).ToList());
    }

    private static DateTimeOffset[] Timer(Random random, DateTimeOffset end)
    {
        var period = TimeSpan.FromMinutes(TimerPeriodsMinutes[random.Next(TimerPeriodsMinutes.Length)]);
        var times = new List<DateTimeOffset>();
        var fire = Epoch.AddMinutes(random.Next((int)period.TotalMinutes));
        for (; fire < end; fire += period)
        {
            times.Add(fire.AddSeconds(random.NextDouble() * 3));
        }

        return [.. times];
    }

    private static DateTimeOffset[] Http(Random random, DateTimeOffset end)
    {
        const double MeanBurst = 3;
        var perDay = LogUniform(random, 20, 2000);
        var peakBurstsPerSecond = perDay / MeanBurst / 86_400 * Diurnal.Peak;
        var times = new List<DateTimeOffset>();
        var at = Epoch;
        while (true)
        {
            // Thinning: candidates at the peak rate, kept with probability rate(t) / peak.
            at = at.AddSeconds(Exponential(random, 1 / peakBurstsPerSecond));
            if (at >= end)
            {
                break;
            }

            if (random.NextDouble() * Diurnal.Peak > Diurnal.Factor(at))
            {
                continue;
            }

            var call = at;
            do
            {
                if (call < end)
                {
                    times.Add(call);
                }

                call = call.AddSeconds(Exponential(random, 5));
            }
            while (random.NextDouble() > 1 / MeanBurst);
        }

        times.Sort();
        return [.. times];
    }

    private static DateTimeOffset[] Rare(Random random, DateTimeOffset end)
    {
        var meanGapSeconds = LogUniform(random, 3_600, 86_400);
        var times = new List<DateTimeOffset>();
        for (var at = Epoch.AddSeconds(Exponential(random, meanGapSeconds)); at < end; at = at.AddSeconds(Exponential(random, meanGapSeconds)))
        {
            times.Add(at);
        }

        return [.. times];
    }

    private static DateTimeOffset[] Frequent(Random random, DateTimeOffset end)
    {
        var meanGapSeconds = 60 / (0.5 + (random.NextDouble() * 2.5));
        var times = new List<DateTimeOffset>();
        for (var at = Epoch.AddSeconds(Exponential(random, meanGapSeconds)); at < end; at = at.AddSeconds(Exponential(random, meanGapSeconds)))
        {
            times.Add(at);
        }

        return [.. times];
    }

    private static double Exponential(Random random, double mean) => -mean * Math.Log(1 - random.NextDouble());

    private static double LogUniform(Random random, double low, double high) =>
        Math.Exp(Math.Log(low) + (random.NextDouble() * (Math.Log(high) - Math.Log(low))));

    // The day's shape for HTTP traffic: 1 + a cos(...) has mean 1 over a day; a = 9/11 makes the peak (15:00 UTC)
    // ten times the trough (03:00 UTC).
    private static class Diurnal
    {
        private const double Amplitude = 9.0 / 11;
        public const double Peak = 1 + Amplitude;

        public static double Factor(DateTimeOffset at) =>
            1 + (Amplitude * Math.Cos(2 * Math.PI * (at.TimeOfDay.TotalHours - 15) / 24));
    }
}
