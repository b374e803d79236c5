using System.Collections;
using System.Text;
using Observability.Sidecar.Configuration;
using Observability.Sidecar.Snapshots;

namespace Observability.Sidecar.Tests;

public sealed class RedactorTests
{
    private const string WriteKey = "collector-write-key-7c1e9a";
    private const string WarmUpToken = "warm-up-token-5d2b8f";

    private readonly Redactor _redactor = new(["X-Tenant-Secret-Id"], ["\\b\\d{4}-\\d{4}-\\d{4}-\\d{4}\\b"], [WriteKey, "Bearer " + WriteKey, WarmUpToken]);

    [Theory]
    [InlineData("Authorization", "Bearer abc")]
    [InlineData("cookie", "a=b")]
    [InlineData("Set-Cookie", "sid=1")]
    [InlineData("X-Api-Key", "k")]
    [InlineData("X-Auth-Token", "t")]
    [InlineData("X-Tenant-Secret-Id", "configured")]
    [InlineData("X-Amz-Security-Token", "FwoGZXIvYXdzE")]
    [InlineData("X-Functions-Key", "abc")]
    [InlineData("Ocp-Apim-Subscription-Key", "abc")]
    public void Secret_headers_are_masked_whole(string name, string value) =>
        Assert.Equal(Redactor.Mask, _redactor.Header(name, value));

    [Fact]
    public void Ordinary_headers_are_kept() =>
        Assert.Equal("application/json", _redactor.Header("Content-Type", "application/json"));

    [Fact]
    public void A_credential_under_an_ordinary_header_name_is_masked() =>
        Assert.Equal(Redactor.Mask, _redactor.Header("X-Trace-Note", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"));

    [Theory]
    // JSON members, scalar or cut off by the capture cap.
    [InlineData("{\"user\":\"ann\",\"password\":\"p4ss\"}", "{\"user\":\"ann\",\"password\":\"[REDACTED]\"}")]
    [InlineData("{\"apiKey\": 12345, \"n\": 1}", "{\"apiKey\": \"[REDACTED]\", \"n\": 1}")]
    [InlineData("{\"client_secret\":\"a\\\"b\"}", "{\"client_secret\":\"[REDACTED]\"}")]
    [InlineData("{\"nested\":{\"refresh_token\":\"cut-off-by-the-ca", "{\"nested\":{\"refresh_token\":\"[REDACTED]\"")]
    [InlineData("{\"pw\":\"x1\",\"pin\":\"0000\",\"otp\":\"123456\",\"sig\":\"abc\"}", "{\"pw\":\"[REDACTED]\",\"pin\":\"[REDACTED]\",\"otp\":\"[REDACTED]\",\"sig\":\"[REDACTED]\"}")]
    [InlineData("{\"order\": 42, \"keyboard\": false, \"status_code\": 500}", "{\"order\": 42, \"keyboard\": false, \"status_code\": 500}")]
    // An object or array under a secret name goes whole, even cut off.
    [InlineData("{\"credentials\":{\"user\":\"u\",\"inner\":[1,\"x\"]},\"n\":1}", "{\"credentials\":\"[REDACTED]\",\"n\":1}")]
    [InlineData("{\"tokens\":[\"t1\",\"t2\"],\"n\":1}", "{\"tokens\":\"[REDACTED]\",\"n\":1}")]
    [InlineData("{\"a\":{\"secrets\":{\"b\":\"cut", "{\"a\":{\"secrets\":\"[REDACTED]\"")]
    // JSON written inside a string (a log line that logs a payload).
    [InlineData("payload {\\\"password\\\":\\\"s3cr3t\\\"}", "payload {\\\"password\\\":\\\"[REDACTED]\\\"}")]
    // name=value, name: value, Name=Bearer X.
    [InlineData("/orders?id=7&access_token=abc123", "/orders?id=7&access_token=[REDACTED]")]
    [InlineData("Host=db;Username=app;Password=hunter2;", "Host=db;Username=app;Password=[REDACTED];")]
    [InlineData("login failed, password: hunter2 (user ann)", "login failed, password: [REDACTED] (user ann)")]
    [InlineData("Authorization=Bearer KEYVALUE123", "Authorization=[REDACTED]")]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer KEYVALUE123", "OTEL_EXPORTER_OTLP_HEADERS=Authorization=[REDACTED]")]
    [InlineData("x-api-key: abc", "x-api-key: [REDACTED]")]
    [InlineData("status code: 500", "status code: 500")]
    [InlineData("calling with Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "calling with Bearer [REDACTED]")]
    // Passwords in URLs.
    [InlineData("postgres://app:hunter2@db:5432/orders", "postgres://[REDACTED]@db:5432/orders")]
    [InlineData("see https://example.com/a?b=1 now", "see https://example.com/a?b=1 now")]
    // Query parameters clouds use for signatures and keys.
    [InlineData("GET /blob?sv=2022-11-02&se=2030-01-01&sig=AbCdEf%2Bgh", "GET /blob?sv=2022-11-02&se=2030-01-01&sig=[REDACTED]")]
    [InlineData("/o?X-Amz-Credential=AKIAX%2F2026&X-Amz-Signature=deadbeef&X-Amz-Security-Token=Fwo", "/o?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]&X-Amz-Security-Token=[REDACTED]")]
    [InlineData("/o?X-Goog-Signature=0a1b&alt=media", "/o?X-Goog-Signature=[REDACTED]&alt=media")]
    [InlineData("/api/fn?code=abcDEF123==&name=x", "/api/fn?code=[REDACTED]&name=x")]
    [InlineData("/maps?key=xyz&client_secret=s&page=2", "/maps?key=[REDACTED]&client_secret=[REDACTED]&page=2")]
    [InlineData("/q?message=login%20password%3A%20hunter2", "/q?message=[REDACTED]")]
    // The operator's own pattern.
    [InlineData("card 4111-1111-1111-1111 declined", "card [REDACTED] declined")]
    // The sidecar's own secrets, wherever they are.
    [InlineData("copied collector-write-key-7c1e9a here", "copied [REDACTED] here")]
    public void Secrets_in_text_are_masked_and_the_rest_kept(string text, string expected) =>
        Assert.Equal(expected, _redactor.Text(text));

    [Theory]
    [InlineData("sk_live_4eC39HqLyjWDarjtT1zdp7dc")]
    [InlineData("rk_live_51H8abcdefghijklmn")]
    [InlineData("pk_live_51H8abcdefghijklmn")]
    [InlineData("ghp_1234567890abcdefghijABCDEFGHIJ123456")]
    [InlineData("gho_1234567890abcdefghijABCDEFGHIJ123456")]
    [InlineData("ghs_1234567890abcdefghijABCDEFGHIJ123456")]
    [InlineData("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz")]
    [InlineData("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx")]
    [InlineData("AKIAIOSFODNN7EXAMPLE")]
    [InlineData("AIzaSyA1234567890abcdefghijklmnopqrstu")]
    [InlineData("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")]
    [InlineData("npm_abcdefghijklmnopqrstuvwxyz0123456789")]
    [InlineData("glpat-abcdefghijklmnopqrst")]
    public void Well_known_credential_formats_are_masked_whatever_their_name(string credential)
    {
        var redacted = _redactor.Text($"note: retry with {credential} later");
        Assert.DoesNotContain(credential, redacted, StringComparison.Ordinal);
        Assert.Contains("retry with [REDACTED] later", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void An_aws_secret_key_next_to_its_key_id_is_masked_but_a_lone_hash_is_kept()
    {
        const string secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        var redacted = _redactor.Text($"creds AKIAIOSFODNN7EXAMPLE {secret}");
        Assert.Equal("creds [REDACTED] [REDACTED]", redacted);
        const string sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
        Assert.Equal($"commit {sha1}", _redactor.Text($"commit {sha1}"));
    }

    [Fact]
    public void A_private_key_block_is_masked_whole_even_when_cut_off()
    {
        const string key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\nQWERTY12345\n-----END RSA PRIVATE KEY-----";
        Assert.Equal("found [REDACTED] end", _redactor.Text($"found {key} end"));
        Assert.Equal("pem [REDACTED]", _redactor.Text("pem -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC"));
    }

    [Theory]
    [InlineData("DB_PASSWORD", true)]
    [InlineData("ConnectionStrings__Main", true)]
    [InlineData("AWS_SECRET_ACCESS_KEY", true)]
    [InlineData("STRIPE_KEY", true)]
    [InlineData("GITHUB_TOKEN", true)]
    [InlineData("Sidecar__WarmUpToken", true)]
    [InlineData("Sidecar__Port", true)]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS", true)]
    [InlineData("PATH", false)]
    [InlineData("PWD", false)]
    [InlineData("DOTNET_ROOT", false)]
    [InlineData("KEYBOARD_LAYOUT", false)]
    [InlineData("AUTHOR", false)]
    public void Environment_variables_are_masked_by_name_and_the_sidecars_own_settings_always(string name, bool masked) =>
        Assert.Equal(masked, _redactor.EnvironmentVariable(name, "value") == Redactor.Mask);

    [Fact]
    public void An_environment_variable_that_copies_an_own_secret_is_masked_whole()
    {
        Assert.Equal(Redactor.Mask, _redactor.EnvironmentVariable("UPSTREAM", $"x{WriteKey}y"));
        Assert.Equal(Redactor.Mask, _redactor.EnvironmentVariable("PING", WarmUpToken));
        Assert.Equal("Host=db;Password=[REDACTED]", _redactor.EnvironmentVariable("DB", "Host=db;Password=p"));
    }

    [Fact]
    public void The_sidecars_own_secrets_come_from_its_otlp_headers_and_secret_settings()
    {
        var options = new SidecarOptions { OtlpHeaders = "Authorization=Bearer%20" + WriteKey + ",x-team=team-1234567" };
        var environment = new Hashtable
        {
            ["Sidecar__WarmUpToken"] = WarmUpToken,
            ["Sidecar__Port"] = "8081",
            ["OTEL_EXPORTER_OTLP_TRACES_HEADERS"] = "api-key=traces-key-12345678",
            ["UNRELATED_TOKEN"] = "not-the-sidecars-12345",
        };
        var secrets = OwnSecrets.Of(options, environment);
        Assert.Contains(WriteKey, secrets);
        Assert.Contains("team-1234567", secrets);
        Assert.Contains(WarmUpToken, secrets);
        Assert.Contains("traces-key-12345678", secrets);
        Assert.DoesNotContain("8081", secrets);
        Assert.DoesNotContain("not-the-sidecars-12345", secrets);
    }

    [Fact]
    public void A_warm_up_token_given_only_as_a_setting_is_one_of_the_sidecars_own_secrets()
    {
        var options = new SidecarOptions { WarmUpToken = "command-line-token-1234" };
        Assert.Contains("command-line-token-1234", OwnSecrets.Of(options, new Hashtable()));
    }

    [Fact]
    public void A_json_body_is_rewritten_with_secrets_masked_at_any_depth()
    {
        const string body = "{\"user\":{\"name\":\"ann\",\"auth\":{\"pw\":\"x\",\"list\":[1,2]}},\"items\":[{\"apiKey\":\"k1\",\"qty\":2}],\"note\":\"password: hunter2\",\"ok\":true,\"n\":null,\"é\":\"ü\"}";
        var redacted = _redactor.Body(Encoding.UTF8.GetBytes(body), body, "application/json", truncated: false);
        Assert.Equal("{\"user\":{\"name\":\"ann\",\"auth\":\"[REDACTED]\"},\"items\":[{\"apiKey\":\"[REDACTED]\",\"qty\":2}],\"note\":\"password: [REDACTED]\",\"ok\":true,\"n\":null,\"é\":\"ü\"}", redacted);
    }

    [Fact]
    public void A_json_body_keeps_its_layout_apart_from_what_is_masked()
    {
        const string body = "{ \"a\" : 1,\n  \"password\" : { \"x\": [1] },\n  \"b\": \"Bearer abcdef123\" }";
        Assert.Equal(
            "{ \"a\" : 1,\n  \"password\" : \"[REDACTED]\",\n  \"b\": \"Bearer [REDACTED]\" }",
            _redactor.Body(Encoding.UTF8.GetBytes(body), body, "application/json", truncated: false));
    }

    [Fact]
    public void A_form_body_is_redacted_field_by_field()
    {
        const string body = "username=ann&password=p%40ss&otp=123456&note=see+sk_live_4eC39HqLyjWDarjtT1zdp7dc&page=2";
        Assert.Equal(
            "username=ann&password=[REDACTED]&otp=[REDACTED]&note=[REDACTED]&page=2",
            _redactor.Body(Encoding.UTF8.GetBytes(body), body, "application/x-www-form-urlencoded", truncated: false));
    }

    [Fact]
    public void A_query_without_secrets_is_returned_as_is()
    {
        const string query = "id=42&page=3&sort=name";
        Assert.Same(query, QueryStrings.Redact(query));
        Assert.Equal("id=42&sig=[REDACTED]", QueryStrings.Redact("id=42&sig=abc"));
    }

    [Theory]
    [InlineData("application/octet-stream", null, "binary (application/octet-stream)")]
    [InlineData("application/json", "gzip", "compressed (gzip)")]
    [InlineData("image/png", null, "binary (image/png)")]
    public void Bodies_the_redactor_cannot_read_are_left_out_with_the_reason_and_size(string contentType, string? encoding, string reason)
    {
        List<KeyValuePair<string, string>> headers = [new("Content-Type", contentType)];
        if (encoding is not null)
        {
            headers.Add(new("Content-Encoding", encoding));
        }

        var message = new CapturedMessage(headers, Encoding.UTF8.GetBytes("password=hunter2"), 16, contentType);
        var document = SnapshotDocument.Message(message, _redactor);
        Assert.False(document.ContainsKey("body"));
        Assert.Equal(reason, (string?)document["bodyOmitted"]);
        Assert.Equal(16, (long?)document["bodyBytes"]);

        var kept = SnapshotDocument.Message(message, _redactor, keepUnreadableBodies: true);
        Assert.StartsWith("base64(", (string?)kept["body"], StringComparison.Ordinal);
        Assert.Equal(reason, (string?)kept["bodyNotRedacted"]);
    }

    [Fact]
    public void A_body_that_is_not_utf8_is_left_out()
    {
        var message = new CapturedMessage([], [0xff, 0xfe, 0x00, 0x41, 0xc3], 5, null);
        Assert.Equal("not UTF-8 text", (string?)SnapshotDocument.Message(message, _redactor)["bodyOmitted"]);
    }
}
