using Observability.Sidecar.Snapshots;

namespace Observability.Sidecar.Tests;

public sealed class RedactorTests
{
    private readonly Redactor _redactor = new(["X-Tenant-Secret-Id"], ["\\b\\d{4}-\\d{4}-\\d{4}-\\d{4}\\b"]);

    [Theory]
    [InlineData("Authorization", "Bearer abc")]
    [InlineData("cookie", "a=b")]
    [InlineData("Set-Cookie", "sid=1")]
    [InlineData("X-Api-Key", "k")]
    [InlineData("X-Auth-Token", "t")]
    [InlineData("X-Tenant-Secret-Id", "configured")]
    public void Secret_headers_are_masked_whole(string name, string value) =>
        Assert.Equal(Redactor.Mask, _redactor.Header(name, value));

    [Fact]
    public void Ordinary_headers_are_kept() =>
        Assert.Equal("application/json", _redactor.Header("Content-Type", "application/json"));

    [Theory]
    [InlineData("{\"user\":\"ann\",\"password\":\"p4ss\"}", "{\"user\":\"ann\",\"password\":\"[REDACTED]\"}")]
    [InlineData("{\"apiKey\": 12345, \"n\": 1}", "{\"apiKey\": \"[REDACTED]\", \"n\": 1}")]
    [InlineData("{\"client_secret\":\"a\\\"b\"}", "{\"client_secret\":\"[REDACTED]\"}")]
    [InlineData("{\"nested\":{\"refresh_token\":\"cut-off-by-the-ca", "{\"nested\":{\"refresh_token\":\"[REDACTED]\"")]
    [InlineData("/orders?id=7&access_token=abc123", "/orders?id=7&access_token=[REDACTED]")]
    [InlineData("Host=db;Username=app;Password=hunter2;", "Host=db;Username=app;Password=[REDACTED];")]
    [InlineData("calling with Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "calling with Bearer [REDACTED]")]
    [InlineData("postgres://app:hunter2@db:5432/orders", "postgres://[REDACTED]@db:5432/orders")]
    [InlineData("card 4111-1111-1111-1111 declined", "card [REDACTED] declined")]
    [InlineData("{\"order\": 42, \"keyboard\": false}", "{\"order\": 42, \"keyboard\": false}")]
    public void Secrets_in_text_are_masked_and_the_rest_kept(string text, string expected) =>
        Assert.Equal(expected, _redactor.Text(text));

    [Theory]
    [InlineData("DB_PASSWORD", true)]
    [InlineData("ConnectionStrings__Main", true)]
    [InlineData("AWS_SECRET_ACCESS_KEY", true)]
    [InlineData("STRIPE_KEY", true)]
    [InlineData("GITHUB_TOKEN", true)]
    [InlineData("PATH", false)]
    [InlineData("DOTNET_ROOT", false)]
    [InlineData("KEYBOARD_LAYOUT", false)]
    public void Environment_variables_are_masked_by_name(string name, bool secret) =>
        Assert.Equal(secret, _redactor.EnvironmentVariable(name, "value") == Redactor.Mask);
}
