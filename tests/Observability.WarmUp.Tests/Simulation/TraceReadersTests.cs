using Observability.WarmUp.Simulation;

namespace Observability.WarmUp.Tests.Simulation;

public sealed class TraceReadersTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("obs-trace-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Csv_ReadsIsoAndUnixTimestampsWithOrWithoutAHeader()
    {
        var withHeader = Write("a.csv", "function,timestamp\nf,2026-03-02T00:01:00Z\ng,1772409600\nf,2026-03-02T00:00:00Z\n");
        var without = Write("b.csv", "g,1772409630.5\n");

        var trace = TraceFiles.Read([withHeader, without]);

        Assert.Equal(["f", "g"], trace.Functions.Select(f => f.Name));
        var f = trace.Functions[0].Invocations;
        Assert.Equal([new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 2, 0, 1, 0, TimeSpan.Zero)], f);
        var g = trace.Functions[1].Invocations;
        Assert.Equal([DateTimeOffset.FromUnixTimeSeconds(1772409600), DateTimeOffset.FromUnixTimeMilliseconds(1772409630500)], g);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1772409600), trace.Start);
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 0, 1, 0, TimeSpan.Zero), trace.End);
    }

    [Fact]
    public void Csv_NamesTheFileAndLineOfABadTimestamp()
    {
        var file = Write("bad.csv", "f,2026-03-02T00:00:00Z\nf,yesterday\n");

        var error = Assert.Throws<TraceFormatException>(() => TraceFiles.Read([file]));

        Assert.Contains("bad.csv, line 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("'yesterday'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Azure_DayFilesInOrderAreOneTraceWithEachMinutesCallsSpreadOverIt()
    {
        var day1 = Write("d01.csv", AzureHeader() + AzureRow("o", "a", "f1", "http", (1, 2), (1440, 1)) + AzureRow("o", "a", "f2", "timer", (60, 1)));
        var day2 = Write("d02.csv", AzureHeader() + AzureRow("o", "a", "f1", "http", (3, 1)));

        var trace = TraceFiles.Read([day1, day2]);

        var epoch = AzureTraceReader.Epoch;
        Assert.Equal(epoch, trace.Start);
        Assert.Equal(epoch.AddDays(2), trace.End);
        var f1 = trace.Functions.Single(f => f.Name == "o/a/f1");
        Assert.Equal("http", f1.Kind);
        // Minute 1 holds 2 calls at 15 s and 45 s; minute 1440 one at 23:59:30; day 2's minute 3 one at 00:02:30.
        Assert.Equal(
            [epoch.AddSeconds(15), epoch.AddSeconds(45), epoch.AddMinutes(1439.5), epoch.AddDays(1).AddMinutes(2.5)],
            f1.Invocations);
        Assert.Equal([epoch.AddMinutes(59.5)], trace.Functions.Single(f => f.Name == "o/a/f2").Invocations);
    }

    [Fact]
    public void Azure_RejectsARowWithTheWrongNumberOfMinutes()
    {
        var file = Write("d01.csv", AzureHeader() + "o,a,f,http,1,2,3\n");

        var error = Assert.Throws<TraceFormatException>(() => TraceFiles.Read([file]));

        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("1444", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_IsReportedByName()
    {
        var missing = Path.Combine(_dir, "nope.csv");

        var error = Assert.Throws<FileNotFoundException>(() => TraceFiles.Read([missing]));

        Assert.Contains("nope.csv", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CsvWriter_RoundTripsThroughTheReader()
    {
        var trace = SyntheticTrace.Generate(20, 1, seed: 3);
        var path = Path.Combine(_dir, "synthetic.csv");
        using (var writer = new StreamWriter(path))
        {
            CsvTraceWriter.Write(trace, writer);
        }

        var read = TraceFiles.Read([path]);

        Assert.Equal(trace.Functions.Select(f => f.Name), read.Functions.Select(f => f.Name));
        Assert.Equal(trace.Functions.SelectMany(f => f.Invocations), read.Functions.SelectMany(f => f.Invocations));
    }

    private static string AzureHeader() =>
        "HashOwner,HashApp,HashFunction,Trigger," + string.Join(',', Enumerable.Range(1, 1440)) + "\n";

    private static string AzureRow(string owner, string app, string function, string trigger, params (int Minute, int Count)[] counts)
    {
        var minutes = new int[1440];
        foreach (var (minute, count) in counts)
        {
            minutes[minute - 1] = count;
        }

        return $"{owner},{app},{function},{trigger},{string.Join(',', minutes)}\n";
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
