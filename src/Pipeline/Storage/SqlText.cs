using System.Collections.Concurrent;

namespace Pipeline.Storage;

/// <summary>The SQL the writer runs, kept as .sql files beside this code (Storage/Sql) and embedded in the binary.</summary>
internal static class SqlText
{
    private static readonly ConcurrentDictionary<string, string> Loaded = new(StringComparer.Ordinal);

    public static string Get(string name) => Resource($"Pipeline.Storage.Sql.{name}.sql");

    /// <summary>An embedded text file by its resource name (such as <c>Pipeline.Lake.Sql.lake_views.sql</c>), read once.</summary>
    public static string Resource(string logicalName) => Loaded.GetOrAdd(logicalName, static n =>
    {
        using var stream = typeof(SqlText).Assembly.GetManifestResourceStream(n)
            ?? throw new InvalidOperationException($"No embedded file named '{n}'.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });
}
