using DuckDB.NET.Data;

namespace Pipeline.Storage;

/// <summary>
/// Opens the database file for the writer: creates its folder, brings the schema up to date, and locks the
/// database down. From then on DuckDB touches no file but its own and the export folder, installs and loads no
/// extension, and refuses any change of settings, whatever SQL reaches it (the query API's SQL endpoint included).
/// </summary>
internal static class DuckDbStore
{
    public static DuckDBConnection Open(StorageOptions options, long maxDiskBytes = 0)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(options.Path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        var connection = new DuckDBConnection(options.ConnectionString(maxDiskBytes));
        try
        {
            OpenWithLowWorkers(connection);
            DuckDbSchema.Apply(connection);
            LockDown(connection, options.ExportDirectory(), options.MaxTempBytes);
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
    /// (<c>Storage:Threads</c> - 1; they inherit that name) can be told from every other thread and set to the lowest
    /// CPU priority. Queries hand them work as the writer does; ingest, the writer's own thread and the receivers keep
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
            Hosting.CpuPriority.Lower(worker);
        }
    }

    public static void Execute(DuckDBConnection connection, string sql, params DuckDBParameter[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddRange(parameters);
        command.ExecuteNonQuery();
    }

    /// <summary>A timestamp as a SQL literal, for bounds that DuckDB must see as constants to prune row groups.</summary>
    public static string Literal(DateTime t) =>
        $"TIMESTAMP '{t.ToString("yyyy-MM-dd HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture)}'";

    /// <summary>
    /// What queries spilled before the daemon last stopped (a crash leaves it): nothing reads it again, and it counts
    /// against the disk. Called at start only, before any connection to this file exists in the process.
    /// </summary>
    public static void RemoveSpillFiles(string folder)
    {
        if (Directory.Exists(folder))
        {
            foreach (var leftover in Directory.EnumerateFiles(folder))
            {
                File.Delete(leftover);
            }
        }
    }

    private static void LockDown(DuckDBConnection connection, string exportDirectory, string maxTempBytes)
    {
        Directory.CreateDirectory(exportDirectory);
        foreach (var leftover in Directory.EnumerateFiles(exportDirectory, "pipeline-export-*"))
        {
            File.Delete(leftover);
        }

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
            SET allowed_directories = ['{exportDirectory.Replace("'", "''", StringComparison.Ordinal)}/'];
            SET enable_external_access = false;
            SET autoinstall_known_extensions = false;
            SET autoload_known_extensions = false;
            SET lock_configuration = true;
            """);
    }
}
