using System.Diagnostics;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using Microsoft.Extensions.Options;
using Pipeline.Query;
using Pipeline.Storage;

namespace Pipeline.Lake;

/// <summary>
/// The database a <c>--Mode=lake</c> daemon answers from: DuckDB in memory, one database per daemon (each query's
/// connection is a duplicate of the catalog's own, DuckDB.NET's way to share an in-memory database), holding the reader views (<c>Lake/Sql/lake_views.sql</c>) over the lake's Parquet files and no data of its own.
/// It is locked down as the store is (<see cref="DuckDbStore"/>): DuckDB reads no file outside the lake and the export
/// folder, installs and loads no extension, and refuses any change of settings. A table without files yet is read from
/// an empty table of the store's shape, so an empty lake answers empty lists; whether files have come is looked at
/// again (a directory listing, at most once a second) before a query, until every table has some.
/// </summary>
internal sealed partial class LakeCatalog : IHostedService, IDisposable
{
    /// <summary>How often a table without files is looked at again.</summary>
    private static readonly TimeSpan RecheckEvery = TimeSpan.FromSeconds(1);

    /// <summary>The tables' files views, by table: until a table has files, its view reads the store's empty table instead.</summary>
    private static readonly Dictionary<string, (string View, string Empty)> FilesViews = new(StringComparer.Ordinal)
    {
        ["runs"] = ("run_files", "SELECT *, NULL::VARCHAR AS node, NULL::DATE AS date FROM store_shape.runs"),
        ["logs"] = ("log_files", "SELECT *, NULL::BOOLEAN AS revision, NULL::VARCHAR AS node, NULL::DATE AS date FROM store_shape.log_lines"),
        ["spans"] = ("span_files", "SELECT *, NULL::VARCHAR AS node, NULL::DATE AS date FROM store_shape.spans"),
    };

    private readonly string _lake;
    private readonly StorageOptions _storage;
    private readonly ILogger<LakeCatalog> _log;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _withoutFiles = new(StringComparer.Ordinal);
    private DuckDBConnection? _root;
    private long _nextCheck;
    private volatile bool _complete;

    public LakeCatalog(IOptions<LakeOptions> lake, IOptions<StorageOptions> storage, ILogger<LakeCatalog> log)
    {
        _lake = Path.GetFullPath(lake.Value.Path).TrimEnd('/');
        _storage = storage.Value;
        _log = log;
        Database = new ReadDatabase(() =>
        {
            Refresh();
            return (_root ?? throw new InvalidOperationException("the lake's database is not open yet")).Duplicate();
        });
    }

    /// <summary>Where the query side's connections go.</summary>
    public ReadDatabase Database { get; }

    /// <summary>The reader views' SQL with the lake's folder in place of <c>{lake}</c>.</summary>
    public static string Views(string lake) => ReaderViews().Replace("{lake}", lake.Replace("'", "''", StringComparison.Ordinal), StringComparison.Ordinal);

    /// <summary>The reader views' SQL as embedded, with the placeholder <c>{lake}</c>.</summary>
    public static string ReaderViews() => SqlText.Resource("Pipeline.Lake.Sql.lake_views.sql");

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_storage.ExportDirectory());
        var root = new DuckDBConnection(
            $"Data Source=:memory:;memory_limit={_storage.MemoryLimit};threads={_storage.Threads};temp_directory={_storage.TempDirectory()}");
        try
        {
            root.Open();

            // The store's tables, empty, in a catalog of their own: the shape a table without files is read as.
            var own = Execute(root, "SELECT current_database()")!;
            Execute(root, "ATTACH ':memory:' AS store_shape; USE store_shape;");
            DuckDbSchema.Apply(root);
            Execute(root, $"USE \"{own}\"");
            foreach (var table in LakeLayout.Tables)
            {
                _withoutFiles.Add(table);
            }

            foreach (var statement in Statements(Views(_lake)))
            {
                Execute(root, FilesViews.Values.Any(v => v.View == ViewName(statement)) ? Empty(ViewName(statement)) : statement);
            }

            LockDown(root);
            _root = root;
        }
        catch
        {
            root.Dispose();
            throw;
        }

        Refresh();
        LakeLog.Opened(_log, _lake, LakeLayout.Tables.Count - _withoutFiles.Count);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Why the lake cannot be read (its folder is gone), for <c>/readyz</c>; null while it is there.</summary>
    public string? Missing() => Directory.Exists(_lake) ? null : $"the lake's folder {_lake} (Lake:Path) is gone";

    /// <summary>
    /// Points the files view of each table that had no files at its files, once some are there. Cheap: nothing once
    /// every table has files, else one directory listing per table without them, at most once a second.
    /// </summary>
    public void Refresh()
    {
        if (_complete || _root is null || Stopwatch.GetTimestamp() < Interlocked.Read(ref _nextCheck))
        {
            return;
        }

        lock (_gate)
        {
            if (Stopwatch.GetTimestamp() < _nextCheck)
            {
                return;
            }

            var statements = Statements(Views(_lake)).ToDictionary(ViewName, StringComparer.Ordinal);
            foreach (var table in _withoutFiles.Where(HasFiles).ToList())
            {
                Execute(_root, statements[FilesViews[table].View]);
                _withoutFiles.Remove(table);
            }

            _complete = _withoutFiles.Count == 0;
            Interlocked.Exchange(ref _nextCheck, Stopwatch.GetTimestamp() + (long)(RecheckEvery.TotalSeconds * Stopwatch.Frequency));
        }
    }

    public void Dispose() => _root?.Dispose();

    /// <summary>Whether a table has a file the views' glob (<c>&lt;table&gt;/*/*/*.parquet</c>) matches.</summary>
    private bool HasFiles(string table)
    {
        var folder = Path.Combine(_lake, table);
        return Directory.Exists(folder) && Directory.EnumerateDirectories(folder)
            .SelectMany(Directory.EnumerateDirectories)
            .Any(slice => Directory.EnumerateFiles(slice, "*.parquet").Any(f => f.EndsWith(".parquet", StringComparison.Ordinal)));
    }

    private static string Empty(string view) =>
        $"CREATE OR REPLACE VIEW {view} AS {FilesViews.Values.Single(v => v.View == view).Empty}";

    /// <summary>The statements of the views' SQL, each ending with ';' at the end of a line.</summary>
    private static IEnumerable<string> Statements(string sql) =>
        sql.Split(";\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(s => ViewPattern().IsMatch(s));

    private static string ViewName(string statement) => ViewPattern().Match(statement).Groups[1].Value;

    [GeneratedRegex(@"^CREATE OR REPLACE (?:VIEW|MACRO) (\w+)", RegexOptions.Multiline)]
    private static partial Regex ViewPattern();

    /// <summary>
    /// Locked down as the store is (<see cref="DuckDbStore.LockDown"/>): the lake and the export folder are the only
    /// files DuckDB may read. Parquet footers are kept in memory: the lake's files never change.
    /// </summary>
    private void LockDown(DuckDBConnection connection)
    {
        Execute(connection, "SET parquet_metadata_cache = true");
        DuckDbStore.LockDown(connection, [_lake, _storage.ExportDirectory()], _storage.MaxTempBytes);
    }

    private static string? Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar() as string;
    }
}

internal static partial class LakeLog
{
    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Lake mode: answering from the lake {Lake} ({Tables} of its 3 tables have files)")]
    public static partial void Opened(ILogger logger, string lake, int tables);
}
