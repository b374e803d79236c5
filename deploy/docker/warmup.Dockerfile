# syntax=docker/dockerfile:1
# obs-warmup: the warm-up scheduler (Hangfire on PostgreSQL), dashboard at /hangfire (src/Observability.WarmUp.Host).
# Build from the repository root:  docker build -f deploy/docker/warmup.Dockerfile -t obs-warmup .
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0
# The scheduler references the collector's project (its settings), whose build builds the web UI with Vite.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS node

FROM ${SDK_IMAGE} AS build
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && node --version && npm --version
WORKDIR /src
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY src/Observability.Otlp/Observability.Otlp.csproj src/Observability.Otlp/
COPY src/Observability.Core/Observability.Core.csproj src/Observability.Core/
COPY src/Observability.Hosting/Observability.Hosting.csproj src/Observability.Hosting/
COPY src/Observability.Collector/Observability.Collector.csproj src/Observability.Collector/
COPY src/Observability.WarmUp/Observability.WarmUp.csproj src/Observability.WarmUp/
COPY src/Observability.WarmUp.Host/Observability.WarmUp.Host.csproj src/Observability.WarmUp.Host/
RUN dotnet restore src/Observability.WarmUp.Host/Observability.WarmUp.Host.csproj
COPY src/Observability.Web/package.json src/Observability.Web/package-lock.json src/Observability.Web/
RUN cd src/Observability.Web && npm ci --no-audit --no-fund && touch node_modules/.obs-installed
COPY src/ src/
RUN dotnet publish src/Observability.WarmUp.Host/Observability.WarmUp.Host.csproj -c Release --no-restore -o /app -p:UseAppHost=false

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /app ./
ENV WarmUp__ListenAddress=0.0.0.0
# /hangfire (read key), /metrics (metrics key), /healthz (no key).
EXPOSE 8090
USER 1654
# The runtime image has bash but no curl: one HTTP/1.0 request over bash's /dev/tcp (the port serves no TLS).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${WarmUp__Port:-8090} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "obs-warmup.dll"]
