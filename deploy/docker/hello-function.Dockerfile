# syntax=docker/dockerfile:1
# obs-sample-hello: the sample .NET function (samples/HelloFunction), for the Compose, Kubernetes and Knative
# examples. It listens on 127.0.0.1:$PORT only: the sidecar beside it (same network namespace) is its front door.
# Build from the repository root:  docker build -f deploy/docker/hello-function.Dockerfile -t obs-sample-hello .
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0

FROM ${SDK_IMAGE} AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY samples/HelloFunction/HelloFunction.csproj samples/HelloFunction/
RUN dotnet restore samples/HelloFunction/HelloFunction.csproj
COPY samples/HelloFunction/ samples/HelloFunction/
RUN dotnet publish samples/HelloFunction/HelloFunction.csproj -c Release --no-restore -o /app -p:UseAppHost=false

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /app ./
ENV PORT=8080
# The same uid as obs-sidecar: the sidecar connects to this runtime's diagnostics socket in the shared /tmp.
USER 1654
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-8080} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "HelloFunction.dll"]
