using DuckDB.NET.Data;
using Pipeline.Parsing;

namespace Pipeline.Storage;

/// <summary>
/// The column order of each table, written once: every Appender row goes through here (the writer's and the
/// benchmark's baseline alike). Every value is passed with its C# type: DuckDB.NET binds an integer literal to its
/// byte overload.
/// </summary>
internal static class TableRows
{
    public static void AppendLog(DuckDBAppender appender, LogRow log, bool mirrored, DateTime committedAt) =>
        appender.CreateRow()
            .AppendValue(log.LogId).AppendValue(log.Run.RunId).AppendValue(log.Run.Script)
            .AppendValue(log.Level).AppendValue(log.Message).AppendValue(log.Timestamp)
            .AppendValue((int?)log.Seq).AppendValue(OriginName(log.Origin)).AppendValue((bool?)mirrored)
            .AppendValue(log.Run.DeploymentId).AppendValue(log.Run.Source).AppendValue(log.Run.SourceType)
            .AppendValue(log.Pid).AppendValue(log.TraceId).AppendValue(log.SpanId).AppendValue(log.AttributesJson)
            .AppendValue(committedAt)
            .EndRow();

    /// <summary>A run row: from its run span when there is one, else an In Progress row from what its logs said.</summary>
    public static void AppendRun(DuckDBAppender appender, TrackedRun run, RunRow? span, DateTime now)
    {
        var row = appender.CreateRow()
            .AppendValue(run.Key.RunId).AppendValue(run.Key.Script)
            .AppendValue(span is null ? "In Progress" : span.Status == RunStatus.Failed ? "Failed" : "Success")
            .AppendValue(run.DeploymentId).AppendValue(run.DeploymentVersion)
            .AppendValue(span is { Status: RunStatus.Success } ? span.DurationMs : (double?)null)
            .AppendValue((double?)span?.DurationMs).AppendValue(span?.Function)
            .AppendValue(run.ExecutedOn).AppendValue(span?.EndedOn)
            .AppendValue(run.SourceType).AppendValue(run.Source).AppendValue(span?.Error)
            .AppendValue(span?.Input).AppendValue(span?.Output).AppendValue(span?.TraceId).AppendValue(span?.SpanId)
            .AppendValue(span?.AttributesJson).AppendValue(span?.ResourceJson);
        (run.HasLogs ? row.AppendValue(run.WindowStart).AppendValue(run.WindowEnd) : row.AppendNullValue().AppendNullValue())
            .AppendValue((bool?)run.HasStdout).AppendValue((bool?)run.HasKorelogger).AppendValue(now)
            .EndRow();
    }

    public static void AppendSpan(DuckDBAppender appender, SpanRow span, DateTime committedAt) =>
        appender.CreateRow()
            .AppendValue(span.TraceId).AppendValue(span.SpanId).AppendValue(span.ParentSpanId)
            .AppendValue(span.Run.RunId).AppendValue(span.Run.Script).AppendValue(span.Name).AppendValue((int?)span.Kind)
            .AppendValue(span.Start).AppendValue(span.End).AppendValue((double?)span.DurationMs)
            .AppendValue((int?)span.StatusCode).AppendValue(span.StatusMessage)
            .AppendValue(span.AttributesJson).AppendValue(span.EventsJson).AppendValue(committedAt)
            .EndRow();

    public static void AppendDeployment(DuckDBAppender appender, string script, string deploymentId, int version, DateTime firstSeen) =>
        appender.CreateRow().AppendValue(script).AppendValue(deploymentId).AppendValue((int?)version).AppendValue(firstSeen).EndRow();

    public static void AppendDigest(DuckDBAppender appender, Buffering.ExportDigest digest, DateTime committedAt) =>
        appender.CreateRow().AppendValue((ulong?)digest.High).AppendValue((ulong?)digest.Low).AppendValue(committedAt).EndRow();

    /// <summary>The run's key and where its row sits, for the staged deletes.</summary>
    public static void AppendRunLocator(DuckDBAppender appender, TrackedRun run) =>
        appender.CreateRow().AppendValue(run.Key.Script).AppendValue(run.Key.RunId).AppendValue(run.ExecutedOn).EndRow();

    /// <summary>What logs add to a completed run, for the staged update (see update_run_facts.sql).</summary>
    public static void AppendRunFacts(DuckDBAppender appender, TrackedRun run) =>
        appender.CreateRow()
            .AppendValue(run.Key.Script).AppendValue(run.Key.RunId).AppendValue(run.ExecutedOn)
            .AppendValue(run.DeploymentId).AppendValue(run.DeploymentVersion).AppendValue(run.Source).AppendValue(run.SourceType)
            .AppendValue(run.WindowStart).AppendValue(run.WindowEnd)
            .AppendValue((bool?)run.HasStdout).AppendValue((bool?)run.HasKorelogger)
            .EndRow();

    public static string OriginName(LogOrigin origin) => origin switch
    {
        LogOrigin.Korelogger => "korelogger",
        LogOrigin.Stdout => "stdout",
        LogOrigin.Stderr => "stderr",
        _ => throw new ArgumentOutOfRangeException(nameof(origin), origin, null),
    };
}
