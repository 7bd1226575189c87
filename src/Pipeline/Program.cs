using Pipeline.Hosting;

// Pipeline: OTLP in (gRPC :4317, HTTP :4318), runs and logs out, in an embedded DuckDB file.
// Whatever stops the start (an invalid option, a port in use, a database file that cannot be opened or read) ends the
// process with exit code 1 and one message saying why, on stderr and in the log. Once started, it runs until stopped.
if (CommandLine.Answer(args) is { } answer)
{
    Console.WriteLine(answer);
    return 0;
}

// A health check, for images without curl: 0 when the daemon's /readyz answers 200, else 1 with the reason.
if (Probe.Requested(args))
{
    return await Probe.RunAsync(args, Console.Out, Console.Error).ConfigureAwait(false);
}

WebApplication app;
try
{
    app = PipelineApp.Build(args);
}
catch (Exception error)
{
    return DidNotStart(error, logger: null);
}

try
{
    await app.StartAsync().ConfigureAwait(false);
}
catch (Exception error)
{
    var code = error is OperationCanceledException && app.Lifetime.ApplicationStopping.IsCancellationRequested
        ? DidNotStart(new OperationCanceledException("it was asked to stop (SIGTERM, Ctrl+C) before it had started.", error), app.Logger)
        : DidNotStart(error, app.Logger);
    // As the host's own RunAsync does after a failed start: no StopAsync (it throws when the hosted services were
    // never created), only disposal, which also flushes the log.
    await app.DisposeAsync().ConfigureAwait(false);
    return code;
}

await app.WaitForShutdownAsync().ConfigureAwait(false);
await app.DisposeAsync().ConfigureAwait(false);
return Environment.ExitCode;

static int DidNotStart(Exception error, ILogger? logger)
{
    var reason = error is AggregateException many
        ? string.Join(" ", many.Flatten().InnerExceptions.Select(e => e.Message))
        : error.Message;
    if (logger is not null)
    {
        StartLog.DidNotStart(logger, reason);
    }

    Console.Error.WriteLine($"Pipeline did not start: {reason}");
    return 1;
}

/// <summary>The one line logged when the start fails (the host logs the exception itself, with its stack).</summary>
internal static partial class StartLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Critical, Message = "Pipeline did not start: {Reason}")]
    public static partial void DidNotStart(ILogger logger, string reason);
}
