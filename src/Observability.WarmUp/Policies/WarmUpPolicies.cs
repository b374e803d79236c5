namespace Observability.WarmUp.Policies;

/// <summary>The policies by the names settings, the CLI and reports use.</summary>
public static class WarmUpPolicies
{
    public static IReadOnlyList<string> Names { get; } = ["none", "fixed", "idle", "histogram"];

    /// <summary>Creates the policy <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The name is none of <see cref="Names"/>.</exception>
    public static IWarmUpPolicy Create(string name, PolicySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Validate(settings);
        return name?.Trim().ToLowerInvariant() switch
        {
            "none" => new NonePolicy(),
            "fixed" => new FixedPolicy(settings.FixedInterval),
            "idle" => new IdlePolicy(settings),
            "histogram" => new HistogramPolicy(settings),
            _ => throw new ArgumentException($"Unknown warm-up policy '{name}'. Valid policies: {string.Join(", ", Names)}.", nameof(name)),
        };
    }

    private static void Validate(PolicySettings settings)
    {
        if (settings.KeepAlive <= TimeSpan.Zero)
        {
            throw new ArgumentException($"The keep-alive must be positive (got {settings.KeepAlive}).", nameof(settings));
        }

        if (settings.Margin < TimeSpan.Zero || settings.Margin >= settings.KeepAlive)
        {
            throw new ArgumentException($"The margin must be at least 0 and shorter than the keep-alive {settings.KeepAlive} (got {settings.Margin}).", nameof(settings));
        }

        if (settings.FixedInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"The fixed interval must be positive (got {settings.FixedInterval}).", nameof(settings));
        }
    }
}
