using System.Text.Json;

namespace Observability.Cli.Client;

/// <summary>JSON as the CLI prints it for scripts (--json) and reads it from the collector: camelCase, indented.</summary>
internal static class CliJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { WriteIndented = true };
}
