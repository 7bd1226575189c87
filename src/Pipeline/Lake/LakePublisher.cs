using DuckDB.NET.Data;
using Microsoft.Extensions.Options;
using Pipeline.Query;
using Pipeline.Storage;

namespace Pipeline.Lake;

/// <summary>
/// Publishes closed time slices of runs, logs and spans as immutable Parquet files in the lake (docs/fleet.md), every
/// <see cref="LakeOptions.Interval"/>. Each pass reads one snapshot of the store on a connection of its own (DuckDB's
/// MVCC: ingest goes on), has DuckDB COPY each file to a <c>.partial</c> name, flushes it to disk and renames it, so a
/// reader sees whole files or none. The pass's files are recorded as being written before the first is, and as
/// published, with the watermark, in one transaction after the last: a pass cut short (a crash, a full disk) is found
/// at the next start or pass, its files removed and the pass done again. Nothing is lost and no file is published twice.
/// Late rows of a published slice go into a new file of the slice (the next sequence number); rows that changed are
/// published again, and readers keep the latest (docs/fleet.md, the reader views).
/// </summary>
internal sealed partial class LakePublisher(
    IOptions<LakeOptions> options,
    IOptions<RetentionOptions> retention,
    ReadStore store,
    LakeUploader uploader,
    LakeMetrics metrics,
    TimeProvider clock,
    ILogger<LakePublisher> logger) : BackgroundService
{
    private readonly LakeOptions _options = options.Value;
    private readonly string _lake = options.Value.Publishes ? System.IO.Path.GetFullPath(options.Value.Path) : "";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        if (!_options.Publishes)
        {
            return;
        }

        LogPublishing(logger, _lake, _options.Node, _options.SliceLength, _options.Delay);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Publish(stoppingToken);
                if (uploader.Enabled)
                {
                    await uploader.UploadAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                metrics.Failed("publish");
                LogPassFailed(logger, ex is DuckDBException duck ? DuckDbStore.FirstLine(duck.Message) : ex.Message, ex);
            }

            try
            {
                await Task.Delay(_options.Interval, clock, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>One pass: what has closed or changed since the last one, as files; returns how many were published.</summary>
    public int Publish(CancellationToken cancellationToken)
    {
        using var read = store.Open(heavy: false, out var closing);
        using var ledger = store.Open(heavy: false, out _);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closing);

        // A pass that did not finish (this process's, cut short, or one before a restart) is undone first.
        RemoveUnfinished(ledger);

        // One snapshot for the whole pass: the watermark, the groups and every file agree on what the store held.
        using var snapshot = read.BeginTransaction();
        var previous = LakeLedger.State(read);
        var now = clock.GetUtcNow().UtcDateTime;
        var pass = LakePass.At(now, LakeLedger.NewestCommit(read, previous?.CommittedThrough ?? DateTime.MinValue), previous, _options.SliceLength, _options.Delay);
        if (pass is null)
        {
            return 0;
        }

        var files = Plan(read, pass, cancel.Token);
        if (files.Count > 0)
        {
            LakeLedger.Intend(ledger, files, _options.Node, now);
        }

        var written = new List<(LakeFile, long, long)>(files.Count);
        try
        {
            foreach (var file in files)
            {
                cancel.Token.ThrowIfCancellationRequested();
                written.Add(Write(read, file, cancel.Token));
            }

            // The renames (and the day and script folders they went into) reach the disk before the ledger says
            // published: a power cut cannot leave a published file missing.
            foreach (var folder in files.SelectMany(f => FoldersOf(f.Path)).Distinct(StringComparer.Ordinal))
            {
                Folders.Sync(folder);
            }

            LakeLedger.Complete(ledger, written, pass, clock.GetUtcNow().UtcDateTime);
        }
        catch
        {
            TryRemoveUnfinished(ledger);
            throw;
        }

        LakeLedger.Forget(ledger, now - retention.Value.MaxAge - TimeSpan.FromDays(7), uploader.Enabled);
        metrics.Cutoff = pass.Cutoff;
        foreach (var (file, rows, _) in written)
        {
            metrics.Published(file.Table.Name, rows);
        }

        var rowsWritten = written.Sum(w => w.Item2);
        if (written.Count > 0)
        {
            LogPublished(logger, written.Count, rowsWritten, pass.Cutoff);
        }

        return written.Count;
    }

    /// <summary>The pass's files: per table, the groups of newly closed slices, then those of late rows, each with its next sequence number.</summary>
    private List<LakeFile> Plan(DuckDBConnection read, LakePass pass, CancellationToken cancellationToken)
    {
        var groups = new List<(LakeTable Table, string Where, string Script, DateTime Slice, long Rows)>();
        foreach (var table in LakeTable.All)
        {
            foreach (var where in new[] { pass.NewSlices(table), pass.LateRows(table) })
            {
                if (where is not null)
                {
                    groups.AddRange(LakeLedger.Groups(read, table, where, _options.SliceLength, cancellationToken).Select(g => (table, where, g.Script, g.Slice, g.Rows)));
                }
            }
        }

        if (groups.Count == 0)
        {
            return [];
        }

        var seqs = LakeLedger.LastSeqs(read, groups.Min(g => g.Slice));
        return groups.Select(g =>
        {
            var seq = seqs.GetValueOrDefault((g.Table.Name, g.Script, g.Slice)) + 1;
            return new LakeFile(g.Table, g.Script, g.Slice, seq, LakeLayout.RelativePath(g.Table.Name, g.Script, g.Slice, _options.Node, seq), g.Where, g.Rows);
        }).ToList();
    }

    /// <summary>Copies one file's rows to its .partial name, flushes it to disk and renames it into place.</summary>
    private (LakeFile File, long Rows, long Bytes) Write(DuckDBConnection read, LakeFile file, CancellationToken cancellationToken)
    {
        var path = System.IO.Path.Combine(_lake, file.Path);
        var partial = path + LakeLayout.PartialSuffix;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var table = file.Table;
        var end = file.SliceStart + _options.SliceLength;
        using var command = read.CreateCommand();
        command.CommandText = $"""
            COPY (
                SELECT {table.SelectList(_options.Node, file.Seq)} FROM {table.Source}
                WHERE script = $script
                  AND {table.TimeColumn} >= {DuckDbStore.Literal(file.SliceStart)} AND {table.TimeColumn} < {DuckDbStore.Literal(end)}
                  AND {file.Where}
                ORDER BY {table.TimeColumn}
            ) TO {DuckDbStore.Literal(partial)} (FORMAT parquet, COMPRESSION zstd)
            """;
        command.Parameters.Add(new DuckDBParameter("script", file.Script));
        using var cancel = cancellationToken.Register(command.Cancel);
        command.ExecuteNonQuery();
        using (var written = new FileStream(partial, FileMode.Open, FileAccess.ReadWrite))
        {
            written.Flush(flushToDisk: true);
        }

        // Never over a file already there: a name taken twice (two daemons with one Lake:Node) stops the pass, loudly.
        File.Move(partial, path, overwrite: false);
        // The same snapshot and conditions as the groups: the file holds the rows they counted.
        return (file, file.Rows, new FileInfo(path).Length);
    }

    /// <summary>The day, script and table folders of a file, deepest first.</summary>
    private IEnumerable<string> FoldersOf(string relativePath)
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.Combine(_lake, relativePath))!;
        for (var level = 0; level < 3; level++)
        {
            yield return folder;
            folder = System.IO.Path.GetDirectoryName(folder)!;
        }
    }

    /// <summary>After a failed pass: undoes it now if the database lets us, else the next pass does.</summary>
    private void TryRemoveUnfinished(DuckDBConnection ledger)
    {
        try
        {
            RemoveUnfinished(ledger);
        }
        catch (Exception ex) when (ex is DuckDBException or IOException or UnauthorizedAccessException)
        {
            LogUndoDeferred(logger, ex.Message);
        }
    }

    /// <summary>Removes the files of a pass that did not finish, whole or partial, and forgets them: the next pass writes them again.</summary>
    private void RemoveUnfinished(DuckDBConnection ledger)
    {
        var unfinished = LakeLedger.Unfinished(ledger);
        foreach (var relative in unfinished)
        {
            // Its folder may not exist yet: the pass can have stopped before it wrote anything.
            var path = System.IO.Path.Combine(_lake, relative);
            foreach (var file in new[] { path, path + LakeLayout.PartialSuffix })
            {
                if (File.Exists(file))
                {
                    File.Delete(file);
                }
            }
        }

        if (unfinished.Count > 0)
        {
            LakeLedger.ForgetUnfinished(ledger);
            LogUnfinishedRemoved(logger, unfinished.Count);
        }
    }

    [LoggerMessage(EventId = 800, Level = LogLevel.Information, Message = "Publishing to the lake {Lake} as node {Node}: slices of {SliceLength}, {Delay} after they end")]
    private static partial void LogPublishing(ILogger logger, string lake, string node, TimeSpan sliceLength, TimeSpan delay);

    [LoggerMessage(EventId = 801, Level = LogLevel.Information, Message = "Published {Files} lake files ({Rows} rows); slices are published up to {Cutoff:u}")]
    private static partial void LogPublished(ILogger logger, int files, long rows, DateTime cutoff);

    [LoggerMessage(EventId = 802, Level = LogLevel.Warning, Message = "Publishing to the lake failed, tried again at the next pass: {Reason}")]
    private static partial void LogPassFailed(ILogger logger, string reason, Exception error);

    [LoggerMessage(EventId = 803, Level = LogLevel.Warning, Message = "Removed {Files} lake files of a pass that did not finish; the next pass writes them again")]
    private static partial void LogUnfinishedRemoved(ILogger logger, int files);

    [LoggerMessage(EventId = 804, Level = LogLevel.Warning, Message = "A failed pass could not be undone at once ({Reason}); the next pass undoes it before anything else")]
    private static partial void LogUndoDeferred(ILogger logger, string reason);
}
