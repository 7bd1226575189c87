# Pipeline daemon image: README's single-file publish (self-contained linux-x64: the .NET runtime, DuckDB's native
# library, the default settings and the web console in one file) on the runtime-deps base, which has no .NET and no
# curl. Runs as the base image's non-root user `app`; the DuckDB file lives on the /data volume.
#   docker build -t pipeline .
#   docker run -d --name pipeline -v pipeline-data:/data --env-file pipeline.env \
#     -p 4317:4317 -p 4318:4318 -p 127.0.0.1:8080:8080 pipeline
# where pipeline.env holds PIPELINE_Security__IngestToken=... and PIPELINE_Security__ReadToken=... (or a tokens file).
# docs/operations.md ("Docker") says more.

# Restores from the project files first (a cached layer), then publishes.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Pipeline/Pipeline.csproj src/Pipeline/
COPY proto/ proto/
RUN dotnet restore src/Pipeline/Pipeline.csproj -r linux-x64
COPY config/ config/
COPY src/Pipeline/ src/Pipeline/
RUN dotnet publish src/Pipeline/Pipeline.csproj -c Release -r linux-x64 -o /app --no-restore

FROM mcr.microsoft.com/dotnet/runtime-deps:10.0
COPY --from=build /app/Pipeline /usr/local/bin/pipeline
# Inside the container every listener binds all interfaces, so that published ports reach it. Safe by default: the
# daemon refuses to start a listener on all interfaces that asks nobody for a token, and says which setting it wants
# (Security:IngestToken for OTLP, Security:ReadToken for the API, or Security:TokensFile). A container that must run
# without tokens says so with -e PIPELINE_Security__AllowUnauthenticated=true.
# The single file unpacks DuckDB's native library at its first start, into a folder the user `app` owns.
ENV PIPELINE_Storage__Path=/data/pipeline.duckdb \
    PIPELINE_Receivers__GrpcEndpoint=0.0.0.0:4317 \
    PIPELINE_Receivers__HttpEndpoint=0.0.0.0:4318 \
    PIPELINE_Api__Endpoint=0.0.0.0:8080 \
    DOTNET_BUNDLE_EXTRACT_BASE_DIR=/var/cache/pipeline
RUN mkdir -p /data /var/cache/pipeline && chown "$APP_UID:$APP_UID" /data /var/cache/pipeline
VOLUME ["/data"]
WORKDIR /data
USER $APP_UID
EXPOSE 4317 4318 8080
# No curl in the image: the binary asks its own /readyz (on 127.0.0.1:8080, from Api:Endpoint) and exits 0 or 1.
# Opening a large store reads it whole first (Storage:VerifyOnStart, about 3 s per GiB): hence the start period.
HEALTHCHECK --interval=30s --timeout=10s --start-period=5m --retries=3 CMD ["/usr/local/bin/pipeline", "--probe"]
# SIGTERM (docker stop) drains the channel into DuckDB before the exit; give it more than docker's 10 s: docker stop -t 60.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/pipeline"]
