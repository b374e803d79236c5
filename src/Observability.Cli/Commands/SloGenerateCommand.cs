using System.CommandLine;
using System.Text.Json;
using Observability.Cli.Client;
using Observability.Cli.Slo;
using Spectre.Console;

namespace Observability.Cli.Commands;

/// <summary>`obs slo generate [--check]`: the SLO specs' recording rules and burn-rate alerts.</summary>
internal static class SloGenerateCommand
{
    public static Command Create()
    {
        var specs = new Option<string>("--specs") { Description = "Folder of SLO specs (*.yaml, one SLO a file).", DefaultValueFactory = _ => Path.Combine("dashboards", "slo") };
        var output = new Option<string>("--output") { Description = "Folder the rules files (slo-NAME.yml) are written to.", DefaultValueFactory = _ => Path.Combine("dashboards", "prometheus", "rules") };
        var grafanaUrl = new Option<string>("--grafana-url") { Description = "Grafana's address, for the alerts' link to the Error budgets dashboard.", DefaultValueFactory = _ => SloRuleGenerator.DefaultGrafanaUrl };
        var check = new Option<bool>("--check") { Description = "Write nothing; exit 1 when the rules files differ from what the specs generate (for CI)." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("generate", "Write Prometheus recording rules and multi-window burn-rate alerts for every SLO spec.")
        {
            specs, output, grafanaUrl, check, json,
        };
        command.SetAction(result =>
        {
            IReadOnlyList<SloSpec> loaded;
            try
            {
                loaded = SloSpecLoader.LoadDirectory(result.GetValue(specs)!);
            }
            catch (SloSpecException e)
            {
                SloErrors.Print(e);

                return 2;
            }

            var generated = SloRuleGenerator.Generate(loaded, result.GetValue(grafanaUrl)!);
            var dir = result.GetValue(output)!;
            var changes = RuleFileDiff.Compare(generated, dir);
            if (result.GetValue(check))
            {
                Report(changes, json: result.GetValue(json), checking: true);
                return changes.Any(c => c.Kind != RuleFileChangeKind.Unchanged) ? 1 : 0;
            }

            Directory.CreateDirectory(dir);
            foreach (var change in changes)
            {
                var path = Path.Combine(dir, change.File);
                if (change.Kind == RuleFileChangeKind.Stale)
                {
                    File.Delete(path);
                }
                else if (change.Kind != RuleFileChangeKind.Unchanged)
                {
                    File.WriteAllText(path, generated[change.File]);
                }
            }

            Report(changes, json: result.GetValue(json), checking: false);
            return 0;
        });
        return command;
    }

    private static void Report(IReadOnlyList<RuleFileChange> changes, bool json, bool checking)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(
                changes.Select(c => new { file = c.File, change = c.Kind.ToString().ToLowerInvariant(), detail = c.Detail }),
                CliJson.Options));
            return;
        }

        var table = new Table().AddColumns("Rules file", checking ? "Compared with the specs" : "Change");
        foreach (var change in changes)
        {
            var text = change.Kind switch
            {
                RuleFileChangeKind.Unchanged => "[green]up to date[/]",
                RuleFileChangeKind.Added => checking ? "[red]missing[/]: a spec has no rules file" : "[yellow]written[/] (new)",
                RuleFileChangeKind.Changed => (checking ? "[red]differs[/]: " : "[yellow]rewritten[/]: ") + Markup.Escape(change.Detail ?? string.Empty),
                RuleFileChangeKind.Stale => checking ? "[red]stale[/]: no spec generates it" : "[yellow]deleted[/] (no spec generates it)",
                _ => Markup.Escape(change.Kind.ToString()),
            };
            table.AddRow(Markup.Escape(change.File), text);
        }

        AnsiConsole.Write(table);
        if (checking && changes.Any(c => c.Kind != RuleFileChangeKind.Unchanged))
        {
            AnsiConsole.MarkupLine("[red]The committed rules differ from what the SLO specs generate:[/] run [blue]obs slo generate[/] and commit the result.");
        }
    }
}
