using Pipeline.Hosting;

// Pipeline: OTLP in (gRPC :4317, HTTP :4318), runs and logs out, in an embedded DuckDB file.
var app = PipelineApp.Build(args);
await app.RunAsync().ConfigureAwait(false);
