using System.Collections.Concurrent;

namespace Pipeline.Storage;

/// <summary>The SQL the writer runs, kept as .sql files beside this code (Storage/Sql) and embedded in the binary.</summary>
internal static class SqlText
{
    private static readonly ConcurrentDictionary<string, string> Loaded = new(StringComparer.Ordinal);

    public static string Get(string name) => Loaded.GetOrAdd(name, static n =>
    {
        using var stream = typeof(SqlText).Assembly.GetManifestResourceStream($"Pipeline.Storage.Sql.{n}.sql")
            ?? throw new InvalidOperationException($"No embedded SQL named '{n}'.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });
}
