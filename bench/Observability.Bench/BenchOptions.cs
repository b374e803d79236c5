using System.Globalization;

namespace Observability.Bench;

/// <summary>Command-line settings of one benchmark run.</summary>
internal sealed record BenchOptions
{
    public int Spans { get; init; } = 300_000;
    public int SpansPerRequest { get; init; } = 500;
    public int Clients { get; init; } = 8;
    public int Rounds { get; init; } = 3;

    /// <summary>Spans in the warm-up round; null for as many as a measured round (JIT tiering and GC sizing take that long to settle).</summary>
    public int? WarmupSpans { get; init; }

    public int RawConnections { get; init; } = 1;

    /// <summary>Collector writers; null keeps the collector's default.</summary>
    public int? Writers { get; init; }

    /// <summary>Collector BatchMaxRows (and the raw COPY batch size); null keeps the collector's default.</summary>
    public int? BatchRows { get; init; }

    /// <summary>Collector QueueCapacity (spans); null keeps the collector's default. Small values exercise 429s and retries.</summary>
    public int? QueueCapacity { get; init; }

    public bool Json { get; init; }

    /// <summary>PostgreSQL with its default durability (fsync and synchronous_commit on) instead of the test cluster's fsync off.</summary>
    public bool Durable { get; init; }

    /// <summary>Also time the collector's ingest steps one by one (<see cref="StageProfile"/>).</summary>
    public bool Profile { get; init; }

    public const string Usage = """
        Usage: bench/ingest.sh [--spans N] [--per-request N] [--clients N] [--rounds N] [--warmup-spans N]
                               [--raw-connections N] [--writers N] [--batch-rows N] [--queue-capacity N]
                               [--profile] [--durable] [--json]
          --spans N            spans acknowledged per measured round (default 300000)
          --per-request N      spans per OTLP request (default 500)
          --clients N          concurrent HTTP client tasks (default 8)
          --rounds N           measured rounds after the warm-up round; the median is reported (default 3)
          --warmup-spans N     spans in the unreported warm-up round (default: as many as --spans)
          --raw-connections N  connections the raw COPY writes on at once (default 1)
          --writers N          collector writers (default: the collector's default)
          --batch-rows N       collector BatchMaxRows and raw COPY batch size (default: the collector's default)
          --queue-capacity N   collector QueueCapacity in spans (default: the collector's default)
          --profile            also time decode, map, COPY, inventory upsert, commit and metrics one by one
          --durable            PostgreSQL with fsync and synchronous_commit on (its defaults) instead of off
          --json               print the results as JSON instead of a table
        """;

    /// <exception cref="ArgumentException">An unknown flag or a value that is not a positive integer.</exception>
    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            options = args[i] switch
            {
                "--json" => options with { Json = true },
                "--profile" => options with { Profile = true },
                "--durable" => options with { Durable = true },
                "--spans" => options with { Spans = Value(args, ++i) },
                "--per-request" => options with { SpansPerRequest = Value(args, ++i) },
                "--clients" => options with { Clients = Value(args, ++i) },
                "--rounds" => options with { Rounds = Value(args, ++i) },
                "--warmup-spans" => options with { WarmupSpans = Value(args, ++i) },
                "--raw-connections" => options with { RawConnections = Value(args, ++i) },
                "--writers" => options with { Writers = Value(args, ++i) },
                "--queue-capacity" => options with { QueueCapacity = Value(args, ++i) },
                "--batch-rows" => options with { BatchRows = Value(args, ++i) },
                _ => throw new ArgumentException($"unknown argument \"{args[i]}\""),
            };
        }

        return options;
    }

    private static int Value(IReadOnlyList<string> args, int i) =>
        i < args.Count && int.TryParse(args[i], NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v
            : throw new ArgumentException($"{args[i - 1]} needs a positive integer");
}
