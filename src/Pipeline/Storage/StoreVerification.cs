using DuckDB.NET.Data;

namespace Pipeline.Storage;

/// <summary>
/// How much of the database file is read at start to find damage (<c>Storage:VerifyOnStart</c>). Each level does
/// what the one before it does, and more. DuckDB checks a block's checksum whenever it reads the block, so what is
/// found depends on which blocks are read. See docs/design.md, "Damaged database files".
/// </summary>
public enum StoreVerification
{
    /// <summary>Only what opening the file reads: its headers, the catalog, and the write-ahead log it replays.</summary>
    None,

    /// <summary>Also the storage metadata of every table: its row groups, and where each column segment lives.</summary>
    Metadata,

    /// <summary>Also every column of every table, read whole: every block in use is read and its checksum checked.</summary>
    Full,
}

/// <summary>Reads a freshly opened database file as far as <see cref="StoreVerification"/> asks, before anything is written to it.</summary>
internal static class StoreCheck
{
    /// <summary>
    /// Throws <see cref="DamagedStoreException"/> when DuckDB cannot read a block the check reads. Every table is
    /// checked, and the message names each that failed: those are the ones to copy piece by piece.
    /// </summary>
    public static void Run(DuckDBConnection connection, StoreVerification level, string path)
    {
        if (level == StoreVerification.None)
        {
            return;
        }

        DuckDBException? first = null;
        var damaged = new List<string>();
        foreach (var (schema, table) in Tables(connection))
        {
            var name = $"{Quote(schema)}.{Quote(table)}";
            try
            {
                // Row groups and column segments are loaded lazily: this loads them all, and the blocks that some
                // compressions keep their segment details in.
                Read(connection, $"SELECT count(*) FROM pragma_storage_info('{name.Replace("'", "''", StringComparison.Ordinal)}')");
                if (level == StoreVerification.Full)
                {
                    // count(*) alone reads no column; a hash of each value needs every block of every column.
                    Read(connection, $"SELECT count(*), bit_xor(hash(COLUMNS(*))) FROM {name}");
                }
            }
            catch (DuckDBException error) when (error.Message.StartsWith("IO Error: ", StringComparison.Ordinal))
            {
                // Only reads of a file just opened: an I/O error here is a block DuckDB cannot read. (Its error type is
                // not set when the error comes from binding a table function, so the message says which it is.)
                first ??= error;
                damaged.Add(table);
            }
        }

        if (first is not null)
        {
            var tables = damaged.Count == 1 ? $"table {damaged[0]}" : $"tables {string.Join(", ", damaged)}";
            throw new DamagedStoreException(path, $"{DuckDbStore.FirstLine(first.Message)} (found reading {tables})", first);
        }
    }

    private static List<(string Schema, string Table)> Tables(DuckDBConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT schema_name, table_name FROM duckdb_tables()
            WHERE database_name = current_database() AND NOT temporary
            ORDER BY schema_name, table_name
            """;
        using var reader = command.ExecuteReader();
        var tables = new List<(string, string)>();
        while (reader.Read())
        {
            tables.Add((reader.GetString(0), reader.GetString(1)));
        }

        return tables;
    }

    private static void Read(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
        }
    }

    private static string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}

/// <summary>
/// The database file exists but DuckDB cannot read it (damaged, cut short, or not a DuckDB file at all). The message
/// names the file and the way out: move it aside, or copy what can still be read into a new file.
/// </summary>
internal sealed class DamagedStoreException(string path, string problem, Exception inner) : Exception(Explain(path, problem), inner)
{
    private static string Explain(string path, string problem) =>
        $"""
        The database file {path} cannot be read: {problem.TrimEnd('.', '!', ' ')}.
        To start with an empty store, move the file aside together with its write-ahead log, if there is one (a log
        left behind is deleted when the new file is created; under the new name it is still read with the file):
            mv {Shell(path)} {Shell(path + ".damaged")}; mv {Shell(path + ".wal")} {Shell(path + ".damaged.wal")}
        and start again. To keep what can still be read, copy it into the new file table by table, as README.md
        describes under "A damaged database file".
        """;

    private static string Shell(string path) => $"'{path.Replace("'", @"'\''", StringComparison.Ordinal)}'";
}
