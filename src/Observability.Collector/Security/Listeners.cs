using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Observability.Collector.Security;

/// <summary>The three ports and what each may serve. A connection is tagged with its port's role when accepted.</summary>
public enum ListenerRole
{
    OtlpGrpc,
    OtlpHttp,
    Api,
}

/// <summary>Endpoint metadata: the port role an endpoint is served on.</summary>
internal sealed record ServedOn(ListenerRole Role);

/// <summary>Endpoint metadata: no key needed (health probes).</summary>
internal sealed record Anonymous;

internal static class Listeners
{
    private const string RoleKey = "obs.listener-role";

    public static void Tag(ConnectionContext connection, ListenerRole role) => connection.Items[RoleKey] = role;

    public static ListenerRole? RoleOf(HttpContext http) =>
        http.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(RoleKey, out var role) == true ? (ListenerRole)role! : null;
}
