namespace Observability.WarmUp.Policies;

/// <summary>
/// A cap on pings per rolling hour for one function: the planner and the simulator ask before each ping and count
/// what they skip. Not thread-safe: one per function, used by one planner run at a time.
/// </summary>
public sealed class PingBudget(int perHour)
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);
    private readonly Queue<DateTimeOffset> _spent = new();

    public int PerHour { get; } = perHour > 0 ? perHour : throw new ArgumentOutOfRangeException(nameof(perHour), perHour, "The ping budget must be at least 1 per hour.");

    /// <summary>Pings spent in the hour before <paramref name="now"/>.</summary>
    public int Spent(DateTimeOffset now)
    {
        while (_spent.Count > 0 && _spent.Peek() <= now - Window)
        {
            _spent.Dequeue();
        }

        return _spent.Count;
    }

    /// <summary>Spends one ping at <paramref name="now"/> if the hour before it has room; false when the budget is used up.</summary>
    public bool TrySpend(DateTimeOffset now)
    {
        if (Spent(now) >= PerHour)
        {
            return false;
        }

        _spent.Enqueue(now);
        return true;
    }
}
