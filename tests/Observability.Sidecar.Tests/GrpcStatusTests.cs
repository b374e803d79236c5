using Microsoft.AspNetCore.Http;
using Observability.Sidecar.Proxy;

namespace Observability.Sidecar.Tests;

/// <summary>Which requests are gRPC calls, and which of their statuses are the server's fault.</summary>
public sealed class GrpcStatusTests
{
    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("application/grpc; charset=utf-8", true)]
    [InlineData("application/grpc;x=1", true)]
    [InlineData("APPLICATION/GRPC", true)]
    [InlineData("application/grpc-web", false)]
    [InlineData("application/grpc-web-text", false)]
    [InlineData("application/json", false)]
    [InlineData(null, false)]
    public void Only_grpc_content_types_are_read_as_grpc_calls(string? contentType, bool grpc)
    {
        var http = new DefaultHttpContext();
        http.Request.ContentType = contentType;
        Assert.Equal(grpc, GrpcStatus.IsGrpc(http.Request));
    }

    [Theory]
    [InlineData(0, false, "OK")]
    [InlineData(1, false, "CANCELLED")]
    [InlineData(2, true, "UNKNOWN")]
    [InlineData(3, false, "INVALID_ARGUMENT")]
    [InlineData(4, true, "DEADLINE_EXCEEDED")]
    [InlineData(5, false, "NOT_FOUND")]
    [InlineData(7, false, "PERMISSION_DENIED")]
    [InlineData(12, true, "UNIMPLEMENTED")]
    [InlineData(13, true, "INTERNAL")]
    [InlineData(14, true, "UNAVAILABLE")]
    [InlineData(15, true, "DATA_LOSS")]
    [InlineData(16, false, "UNAUTHENTICATED")]
    [InlineData(99, false, "99")]
    public void Server_side_codes_are_faults_as_the_conventions_for_server_spans_say(int code, bool fault, string name)
    {
        Assert.Equal(fault, new GrpcStatus(code, null).IsServerFault);
        Assert.Equal(name, new GrpcStatus(code, null).Name);
    }

    [Fact]
    public void A_trailers_only_answer_has_its_status_read_from_the_headers_with_the_message_decoded()
    {
        var trailersOnly = new DefaultHttpContext();
        trailersOnly.Response.Headers["grpc-status"] = "14";
        trailersOnly.Response.Headers["grpc-message"] = "try later: 100%25 busy";
        Assert.Equal(new GrpcStatus(14, "try later: 100% busy"), GrpcStatus.Read(trailersOnly));

        // A call cut off before it ended has no status at all. (Trailers proper: GrpcTests, through a real proxy.)
        Assert.Null(GrpcStatus.Read(new DefaultHttpContext()));
    }
}
