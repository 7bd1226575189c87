using DuckDB.NET.Data;

namespace Pipeline.Query;

/// <summary>
/// An online backup: a new DuckDB file holding everything the store holds (every table, view and the export digests
/// that keep retries from being stored twice), as of one instant, written while ingest goes on. DuckDB copies the
/// database into a file of its own in the export folder, outside the exports' cap (<c>ATTACH</c>, then one
/// <c>COPY FROM DATABASE</c> statement: one transaction, so the copy is consistent); the caller streams it and removes it. It runs as a heavy query: in an
/// export slot, and stopped (answered 503) when a commit needs DuckDB's memory or storage is opened afresh.
/// </summary>
internal sealed class Backups(ReadStore store, Microsoft.Extensions.Options.IOptions<Storage.StorageOptions> storage)
{
    private readonly string _directory = storage.Value.ExportDirectory();

    /// <summary>Writes the backup within <paramref name="limit"/> and returns its path; on a failure nothing is left.</summary>
    public async Task<string> WriteAsync(TimeSpan limit, IDisposable lease, CancellationToken cancellationToken)
    {
        var name = $"pipeline-backup-{Guid.NewGuid():N}";
        var path = Path.Combine(_directory, name + ".duckdb");
        await Deadline.RunAsync(
            token => CopyAsync(name, path, token), limit, "the backup", lease, cancellationToken,
            abandoned: _ => Remove(path)).ConfigureAwait(false);
        return path;
    }

    private async Task<int> CopyAsync(string alias, string path, CancellationToken cancellationToken)
    {
        var copied = false;
        try
        {
            using var connection = store.Open(heavy: true, out var closing);
            using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closing);
            var source = await ScalarAsync(connection, "SELECT current_database()", interrupt.Token).ConfigureAwait(false);
            try
            {
                // The path and the alias are ours; the database name is DuckDB's, quoted as an identifier.
                await ExecuteAsync(connection, $"ATTACH '{path}' AS \"{alias}\"", interrupt.Token).ConfigureAwait(false);
                await ExecuteAsync(connection, $"COPY FROM DATABASE \"{source.Replace("\"", "\"\"", StringComparison.Ordinal)}\" TO \"{alias}\"", interrupt.Token).ConfigureAwait(false);
            }
            finally
            {
                // Whatever happened, the copy leaves the catalog.
                await ExecuteAsync(connection, $"DETACH DATABASE IF EXISTS \"{alias}\"", CancellationToken.None).ConfigureAwait(false);
            }

            copied = true;
            return 0;
        }
        finally
        {
            if (!copied)
            {
                Remove(path);
            }
        }
    }

    private static void Remove(string path)
    {
        File.Delete(path);
        File.Delete(path + ".wal");
    }

    private static async Task<string> ScalarAsync(DuckDBConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var registration = cancellationToken.Register(command.Cancel);
        return (string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task ExecuteAsync(DuckDBConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var registration = cancellationToken.Register(command.Cancel);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
