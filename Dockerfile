# Pipeline daemon image. Restores from the project files first (a cached layer), then publishes.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Pipeline/Pipeline.csproj src/Pipeline/
COPY proto/ proto/
RUN dotnet restore src/Pipeline/Pipeline.csproj
COPY config/ config/
COPY src/Pipeline/ src/Pipeline/
RUN dotnet publish src/Pipeline/Pipeline.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# The DuckDB file lives on a volume; listen on all interfaces inside the container.
ENV PIPELINE_Storage__Path=/data/pipeline.duckdb \
    PIPELINE_Receivers__GrpcEndpoint=0.0.0.0:4317 \
    PIPELINE_Receivers__HttpEndpoint=0.0.0.0:4318 \
    PIPELINE_Api__Endpoint=0.0.0.0:8080
RUN mkdir /data && chown app:app /data
VOLUME ["/data"]
USER app
EXPOSE 4317 4318 8080
ENTRYPOINT ["dotnet", "Pipeline.dll"]
