using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Observability.Collector.Configuration;

namespace Observability.Collector.Query;

/// <summary>
/// Turns a bad query parameter into a 400 with its message, and a query stopped by the statement timeout into a
/// 504 that says how to narrow it.
/// </summary>
internal sealed class QueryErrors(RequestDelegate next, IOptions<CollectorOptions> options)
{
    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            await next(http);
        }
        catch (QueryException e) when (!http.Response.HasStarted)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            await http.Response.WriteAsJsonAsync(new { error = e.Message });
        }
        catch (Exception e) when (QueryDatabase.IsStatementTimeout(e) && !http.Response.HasStarted)
        {
            http.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            await http.Response.WriteAsJsonAsync(new
            {
                error = $"the query ran longer than the statement timeout of {QueryDatabase.Describe(options.Value.QueryTimeout)} " +
                    "(Collector:QueryTimeout): narrow the time range or add filters (service, name, attributes)",
            });
        }
    }
}
