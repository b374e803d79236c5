namespace Observability.Sidecar.Cli;

/// <summary>
/// Turns `obs-sidecar --name hello --port 8081 -- dotnet hello.dll` into configuration: short switches
/// become Sidecar:* keys, everything after "--" is the function's command (supervise mode).
/// </summary>
internal static class SidecarArguments
{
    public static readonly IReadOnlyDictionary<string, string> Switches = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--name"] = "FunctionName",
        ["--version"] = "FunctionVersion",
        ["--instance"] = "Instance",
        ["--listen"] = "ListenAddress",
        ["--port"] = "Port",
        ["--admin-port"] = "AdminPort",
        ["--upstream-port"] = "UpstreamPort",
        ["--upstream-host"] = "UpstreamHost",
        ["--pid"] = "Pid",
        ["--sampling-ratio"] = "SamplingRatio",
        ["--ready-timeout"] = "ReadyTimeout",
        ["--upstream-timeout"] = "UpstreamTimeout",
        ["--idle-timeout"] = "IdleTimeout",
        ["--log-lines"] = "LogLines",
        ["--warmup-header"] = "WarmUpHeader",
        ["--warmup-token"] = "WarmUpToken",
        ["--advertise-url"] = "AdvertiseUrl",
        ["--otlp-endpoint"] = "OtlpEndpoint",
        ["--otlp-headers"] = "OtlpHeaders",
        ["--otlp-certificate"] = "OtlpCertificate",
    };

    /// <summary>Switches that may be repeated, each one adding an item to a list setting.</summary>
    public static readonly IReadOnlyDictionary<string, string> ListSwitches = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--route"] = "Routes",
    };

    /// <returns>Host arguments (--Sidecar:Key=value, --config stays as is) and the function's command.</returns>
    public static (string[] HostArgs, string[] Command, string? ConfigFile) Split(string[] args)
    {
        var separator = Array.IndexOf(args, "--");
        var own = separator < 0 ? args : args[..separator];
        var command = separator < 0 ? [] : args[(separator + 1)..];
        var hostArgs = new List<string>();
        string? configFile = null;
        var listItems = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < own.Length; i++)
        {
            var (name, value) = own[i].Split('=', 2) is [var n, var v] ? (n, (string?)v) : (own[i], null);
            if (ListSwitches.TryGetValue(name, out var list))
            {
                value ??= i + 1 < own.Length ? own[++i] : throw new ArgumentException($"{name} needs a value");
                var index = listItems.GetValueOrDefault(list);
                listItems[list] = index + 1;
                hostArgs.Add($"--Sidecar:{list}:{index}={value}");
            }
            else if (name == "--config" || Switches.ContainsKey(name))
            {
                value ??= i + 1 < own.Length ? own[++i] : throw new ArgumentException($"{name} needs a value");
                if (name == "--config")
                {
                    configFile = value;
                }
                else
                {
                    hostArgs.Add($"--Sidecar:{Switches[name]}={value}");
                }
            }
            else
            {
                hostArgs.Add(own[i]);
            }
        }

        return ([.. hostArgs], command, configFile);
    }
}
