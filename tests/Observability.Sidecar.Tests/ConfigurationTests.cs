using System.Diagnostics;
using Observability.Hosting;

namespace Observability.Sidecar.Tests;

/// <summary>A bad setting stops obs-sidecar at start, with exit code 2 and a message that names the key.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("--name x --port 0", "Sidecar.Port must be between 1 and 65535")]
    [InlineData("--port 8081", "Sidecar:FunctionName (--name) is required")]
    [InlineData("--name x --sampling-ratio 2", "Sidecar.SamplingRatio must be between 0 and 1")]
    [InlineData("--name x --idle-timeout 00:00:01", "Sidecar:IdleTimeout (--idle-timeout) needs supervise mode")]
    [InlineData("--name x --Sidecar:RedactPatterns:0=(", "Sidecar:RedactPatterns: \"(\" is not a valid regular expression")]
    [InlineData("--name x --Sidecar:DumpOnFailure=Huge", "'Huge' at 'Sidecar:DumpOnFailure'")]
    [InlineData("--name x --upstream-timeout soon", "'soon' at 'Sidecar:UpstreamTimeout'")]
    [InlineData("--name x --otlp-certificate /nonexistent/ca.pem", "Sidecar:OtlpCertificate (--otlp-certificate): /nonexistent/ca.pem cannot be read")]
    [InlineData("--name x --otlp-certificate /proc/version", "Sidecar:OtlpCertificate (--otlp-certificate): /proc/version holds no PEM certificate")]
    [InlineData("--name x --warmup-token short", "Sidecar:WarmUpToken (--warmup-token) must be at least 16 characters")]
    [InlineData("--name x --advertise-url ftp://host/", "Sidecar:AdvertiseUrl (--advertise-url) must be an absolute http(s) URL")]
    [InlineData("--name x --route /ok/{id} --route orders", "Sidecar:Routes (--route): \"orders\" must start with /")]
    [InlineData("--name x --route /files/{name}.txt", "Sidecar:Routes (--route): \"/files/{name}.txt\" segment \"{name}.txt\" must be a literal or a whole {name}")]
    [InlineData("--name x --route /a/{*rest}/b", "catch-all \"{*rest}\" must be the last segment")]
    public async Task A_bad_setting_stops_the_sidecar_with_a_message_naming_it(string arguments, string expected) =>
        await AssertStopsWithAsync(arguments, expected);

    [Fact]
    public async Task Export_headers_the_exporter_cannot_read_stop_the_sidecar_before_it_starts()
    {
        var ports = $"--port {LocalPostgres.FreePort()} --admin-port {LocalPostgres.FreePort()} --upstream-port {LocalPostgres.FreePort()}";
        var stderr = await AssertStopsWithAsync($"--name x {ports} --otlp-endpoint http://127.0.0.1:9 --otlp-headers a=1,garbage", "Sidecar:OtlpHeaders (--otlp-headers): \"garbage\" is not a name=value pair");
        // Found by validation, not by the exporter once the host runs: no host failure and stack trace first.
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_standard_OTLP_certificate_variable_is_read_and_a_bad_file_in_it_named()
    {
        var ports = $"--port {LocalPostgres.FreePort()} --admin-port {LocalPostgres.FreePort()} --upstream-port {LocalPostgres.FreePort()}";
        await AssertStopsWithAsync(
            $"--name x {ports} --otlp-endpoint https://127.0.0.1:9",
            "OTEL_EXPORTER_OTLP_CERTIFICATE: /nonexistent/ca.pem cannot be read",
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"));
    }

    private static async Task<string> AssertStopsWithAsync(string arguments, string expected, (string Name, string Value)? environment = null)
    {
        var (program, prefix) = SidecarRunner.Executable;
        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        if (environment is var (name, value))
        {
            info.Environment[name] = value;
        }

        foreach (var argument in prefix.Concat(arguments.Split(' ')))
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(process.ExitCode == 2, $"exit code {process.ExitCode}; stderr: {stderr}; stdout: {await stdout}");
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        return stderr;
    }
}
