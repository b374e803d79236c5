namespace Observability.Dashboards.Tests;

/// <summary>dashboards/alertmanager/alertmanager.yml, checked and routed by amtool: pages and tickets reach different receivers.</summary>
public sealed class AlertmanagerTests
{
    private static string Config => DashboardFiles.Of("alertmanager", "alertmanager.yml");

    [Fact]
    public async Task Config_passes_amtool_check_config()
    {
        var result = await RulesTools.RunAsync("amtool", "check-config", Config);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("SUCCESS", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("page", "alertname=ErrorBudgetBurn", "severity=page", "slo=hello-availability", "function=hello")]
    [InlineData("page", "alertname=CollectorDown", "severity=page", "job=obs-collector")]
    [InlineData("ticket", "alertname=ErrorBudgetBurn", "severity=ticket", "slo=hello-availability", "function=hello")]
    [InlineData("ticket", "alertname=FunctionColdStartRateHigh", "severity=ticket", "function=hello")]
    [InlineData("ticket", "alertname=SomethingWithoutSeverity")]
    public async Task Alert_routes_to_its_severitys_receiver(string receiver, params string[] labels)
    {
        var result = await RulesTools.RunAsync("amtool", ["config", "routes", "test", "--config.file", Config, "--verify.receivers", receiver, .. labels]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(receiver, result.Stdout.Trim());
    }
}
