# syntax=docker/dockerfile:1
# obs-sidecar: the sidecar agent, compiled natively (Native AOT), on a runtime-deps image (no .NET runtime inside).
# Build from the repository root:  docker build -f deploy/docker/sidecar.Dockerfile -t obs-sidecar .
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0

FROM ${SDK_IMAGE} AS build
# Native AOT links with clang and needs zlib's headers (as scripts/ensure-deps.sh installs on a build machine).
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
ARG TARGETARCH
WORKDIR /src
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY src/Observability.Otlp/Observability.Otlp.csproj src/Observability.Otlp/
COPY agents/Observability.Sidecar/Observability.Sidecar.csproj agents/Observability.Sidecar/
COPY agents/Observability.Sidecar.Cli/Observability.Sidecar.Cli.csproj agents/Observability.Sidecar.Cli/
RUN rid="linux-$([ "$TARGETARCH" = arm64 ] && echo arm64 || echo x64)" \
 && dotnet restore agents/Observability.Sidecar.Cli/Observability.Sidecar.Cli.csproj -r "$rid"
COPY src/Observability.Otlp/ src/Observability.Otlp/
COPY agents/ agents/
RUN rid="linux-$([ "$TARGETARCH" = arm64 ] && echo arm64 || echo x64)" \
 && dotnet publish agents/Observability.Sidecar.Cli/Observability.Sidecar.Cli.csproj -c Release -r "$rid" --no-restore -o /app \
 && rm -f /app/*.dbg /app/*.pdb

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /app/ ./
# Listen on every address in a container (the sidecar's default is loopback).
ENV Sidecar__ListenAddress=0.0.0.0
# Proxy port (clients call it instead of the function) and admin port (/metrics, /healthz, /readyz).
EXPOSE 8081 9464
# The same uid as the .NET images' "app" user: the sidecar reads the function's /proc entries and its diagnostics
# socket in the shared /tmp, which needs the function to run as this user too.
USER 1654
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${Sidecar__AdminPort:-9464} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/app/obs-sidecar"]
