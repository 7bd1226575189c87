using DuckDB.NET.Data;

namespace Pipeline.Storage;

/// <summary>
/// The tables, created and versioned at start. <c>schema_info</c> holds the version; each step upgrades one
/// version, in order, in a transaction. A file written by a newer Pipeline is refused rather than misread.
/// </summary>
internal static class DuckDbSchema
{
    public const int Version = 3;

    // One file per version in Storage/Sql: schema_v1.sql, schema_v2.sql, ...
    private static string Step(int version) => SqlText.Get($"schema_v{version}");

    /// <summary>Brings the file to <see cref="Version"/>; returns the version it found.</summary>
    public static int Apply(DuckDBConnection connection)
    {
        Execute(connection, "CREATE TABLE IF NOT EXISTS schema_info (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)");
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT COALESCE(max(version), 0) FROM schema_info";
        var found = Convert.ToInt32(read.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (found > Version)
        {
            throw new InvalidOperationException(
                $"The database was written by a newer Pipeline (schema version {found}; this build knows up to {Version}). Refusing to open it.");
        }

        for (var version = found + 1; version <= Version; version++)
        {
            using var transaction = connection.BeginTransaction();
            Execute(connection, Step(version));
            using var record = connection.CreateCommand();
            record.CommandText = "INSERT INTO schema_info VALUES ($version, $at)";
            record.Parameters.Add(new DuckDBParameter("version", version));
            record.Parameters.Add(new DuckDBParameter("at", DateTime.UtcNow));
            record.ExecuteNonQuery();
            transaction.Commit();
        }

        return found;
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
