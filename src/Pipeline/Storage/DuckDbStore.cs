using DuckDB.NET.Data;

namespace Pipeline.Storage;

/// <summary>
/// Opens the database file for the writer: creates its folder, checks the file as far as
/// <see cref="StorageOptions.VerifyOnStart"/> asks, brings the schema up to date, and locks the database down. From
/// then on DuckDB touches no file but its own and the export folder, installs and loads no extension, and refuses
/// any change of settings, whatever SQL reaches it (the query API's SQL endpoint included).
/// </summary>
internal static class DuckDbStore
{
    // What DuckDB says, when it opens a file, about one it cannot read: not a DuckDB file (or its first header is
    // gone), a header or block whose checksum does not match, a file cut short, a write-ahead log it cannot replay.
    private static readonly string[] Damage =
        ["not a valid DuckDB database file", "Corrupt database file", "Could not read enough bytes", "Failure while replaying WAL file"];

    /// <summary>
    /// Throws <see cref="DamagedStoreException"/> for a file DuckDB cannot read, and <see cref="StoreOpenException"/>
    /// when it cannot open the file for another reason (another process holds it, a read-only file system).
    /// </summary>
    /// <param name="atStart">
    /// True when the daemon starts: the file is checked, and what an earlier run left (spill files, export files) is
    /// removed once the file's lock is held. False when the writer opens it again after a failure.
    /// </param>
    /// <param name="lakeFolder">The lake folder the publisher writes into (<see cref="Lake.LakeOptions.Path"/>), or null.</param>
    public static DuckDBConnection Open(StorageOptions options, long maxDiskBytes = 0, bool atStart = true, string? lakeFolder = null)
    {
        var path = Path.GetFullPath(options.Path);
        var folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        var connection = new DuckDBConnection(options.ConnectionString(maxDiskBytes));
        try
        {
            try
            {
                OpenWithLowWorkers(connection);
            }
            catch (DuckDBException error)
            {
                var message = FirstLine(error.Message).Replace("DuckDBOpen failed: ", "", StringComparison.Ordinal);
                throw Damage.Any(d => message.Contains(d, StringComparison.Ordinal))
                    ? new DamagedStoreException(path, message, error)
                    : new StoreOpenException($"The database file {path} cannot be opened: {message}", error);
            }

            Directory.CreateDirectory(options.ExportDirectory());
            if (atStart)
            {
                RemoveLeftovers(options);
                StoreCheck.Run(connection, options.VerifyOnStart, path);
            }

            DuckDbSchema.Apply(connection);
            LockDown(connection, lakeFolder is null ? [options.ExportDirectory()] : [options.ExportDirectory(), lakeFolder], options.MaxTempBytes);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the connection on a thread of its own name, so that the worker threads DuckDB starts with the database
    /// (<c>Storage:Threads</c> - 1; they inherit that name) can be told from every other thread and set to a lower
    /// CPU priority (<see cref="Hosting.CpuPriority"/>). Queries hand them work as the writer does; ingest, the writer's own thread and the receivers keep
    /// the normal priority, so a burst of heavy queries runs on what ingest leaves.
    /// </summary>
    private static void OpenWithLowWorkers(DuckDBConnection connection)
    {
        const string name = "duckdb-workers";
        Exception? failure = null;
        var opener = new Thread(() =>
        {
            try
            {
                connection.Open();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        })
        {
            Name = name,
        };
        opener.Start();
        opener.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }

        foreach (var worker in Hosting.CpuPriority.ThreadsNamed(name))
        {
            Hosting.CpuPriority.LowerThread(worker);
        }
    }

    /// <summary>The first line of a DuckDB error: what went wrong, without the statement it quotes.</summary>
    public static string FirstLine(string message) => message.Split('\n', 2)[0].TrimEnd();

    public static void Execute(DuckDBConnection connection, string sql, params DuckDBParameter[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddRange(parameters);
        command.ExecuteNonQuery();
    }

    /// <summary>A string as a SQL literal: quoted, its quotes doubled. For what DuckDB takes only as a constant (paths, settings).</summary>
    public static string Literal(string text) => $"'{text.Replace("'", "''", StringComparison.Ordinal)}'";

    /// <summary>A timestamp as a SQL literal, for bounds that DuckDB must see as constants to prune row groups.</summary>
    public static string Literal(DateTime t) =>
        $"TIMESTAMP '{t.ToString("yyyy-MM-dd HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture)}'";

    /// <summary>
    /// What the last run left: spill files (nothing reads them again, and they count against the disk) and export
    /// files a crash left. Only once this process holds the file's lock, so a second daemon started by mistake on the
    /// same file cannot delete a running one's files.
    /// </summary>
    private static void RemoveLeftovers(StorageOptions options)
    {
        var spill = options.TempDirectory();
        if (Directory.Exists(spill))
        {
            foreach (var leftover in Directory.EnumerateFiles(spill))
            {
                File.Delete(leftover);
            }
        }

        foreach (var leftover in Directory.EnumerateFiles(options.ExportDirectory(), "pipeline-export-*")
                     .Concat(Directory.EnumerateFiles(options.ExportDirectory(), "pipeline-backup-*")))
        {
            File.Delete(leftover);
        }
    }

    /// <summary>
    /// From here on DuckDB reads and writes no file but its own and those under <paramref name="folders"/>, installs
    /// and loads no extension, and refuses any change of settings (the store's database, and a lake-mode daemon's).
    /// </summary>
    public static void LockDown(DuckDBConnection connection, IReadOnlyList<string> folders, string maxTempBytes)
    {
        using (var check = connection.CreateCommand())
        {
            check.CommandText = "SELECT current_setting('lock_configuration')";
            if (check.ExecuteScalar() is true)
            {
                return; // The same database instance, locked by an earlier writer in this process.
            }
        }

        // max_temp_directory_size is shown but not enforced when given at open (DuckDB 1.5): it must be SET.
        Execute(connection, $"""
            SET max_temp_directory_size = '{maxTempBytes}';
            SET allowed_directories = [{string.Join(", ", folders.Select(f => Literal($"{f.TrimEnd('/')}/")))}];
            SET enable_external_access = false;
            SET autoinstall_known_extensions = false;
            SET autoload_known_extensions = false;
            SET lock_configuration = true;
            """);
    }
}

/// <summary>DuckDB could not open the database file, for a reason other than damage; the message names the file and says why.</summary>
internal sealed class StoreOpenException(string message, Exception inner) : Exception(message, inner);
