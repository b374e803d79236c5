# syntax=docker/dockerfile:1
# obs-collector: OTLP receivers, PostgreSQL store, query API, web UI, /metrics (src/Observability.Collector).
# Build from the repository root:  docker build -f deploy/docker/collector.Dockerfile -t obs-collector .
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0
# The collector's build builds its web UI with Vite, which needs Node.js 20.19 or later; the SDK image has none.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS node

FROM ${SDK_IMAGE} AS build
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && node --version && npm --version
WORKDIR /src
# Project files first, so that restore and npm ci stay cached while only sources change.
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY src/Observability.Otlp/Observability.Otlp.csproj src/Observability.Otlp/
COPY src/Observability.Core/Observability.Core.csproj src/Observability.Core/
COPY src/Observability.Hosting/Observability.Hosting.csproj src/Observability.Hosting/
COPY src/Observability.Collector/Observability.Collector.csproj src/Observability.Collector/
RUN dotnet restore src/Observability.Collector/Observability.Collector.csproj
COPY src/Observability.Web/package.json src/Observability.Web/package-lock.json src/Observability.Web/
# The marker file is what the collector's build checks before it runs npm ci itself.
RUN cd src/Observability.Web && npm ci --no-audit --no-fund && touch node_modules/.obs-installed
COPY src/ src/
RUN dotnet publish src/Observability.Collector/Observability.Collector.csproj -c Release --no-restore -o /app -p:UseAppHost=false

FROM ${RUNTIME_IMAGE}
# curl for the health check only: it speaks TLS too, when the collector serves it (Collector:TlsCertificateFile).
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
# In a container the ports must listen on every address, not loopback (the collector's default).
ENV Collector__ListenAddress=0.0.0.0
# OTLP/gRPC, OTLP/HTTP, and the API port (/ui, /api/v1, /jaeger, /metrics, /healthz).
EXPOSE 4317 4318 8080
# The .NET images' non-root "app" user (uid 1654); numeric so that Kubernetes' runAsNonRoot can verify it.
USER 1654
# /healthz needs no key; plain HTTP first, then HTTPS (any certificate) when TLS is on.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${Collector__HttpPort:-8080}/healthz" \
   || curl -fsSk -o /dev/null "https://127.0.0.1:${Collector__HttpPort:-8080}/healthz" \
   || exit 1
ENTRYPOINT ["dotnet", "obs-collector.dll"]
