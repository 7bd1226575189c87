namespace Pipeline.Hosting;

/// <summary>
/// What the daemon is (key <c>Mode</c>, <c>--Mode=lake</c>): a <c>store</c> (the default) receives OTLP and writes its
/// own DuckDB file; a <c>lake</c> daemon has no OTLP listeners, no writer and no store file, and answers the query API
/// and the console read-only over the Parquet files that many store daemons publish to <c>Lake:Path</c>
/// (docs/lake-mode.md).
/// </summary>
public sealed class PipelineMode
{
    public const string Key = "Mode";

    public static readonly PipelineMode Store = new("store");

    public static readonly PipelineMode Lake = new("lake");

    private PipelineMode(string name) => Name = name;

    public string Name { get; }

    public bool IsLake => ReferenceEquals(this, Lake);

    /// <summary>The configured mode; an unknown one stops the start with a message naming the key.</summary>
    public static PipelineMode Read(IConfiguration configuration) => configuration[Key] switch
    {
        null or "" => Store,
        var name when name.Equals(Store.Name, StringComparison.OrdinalIgnoreCase) => Store,
        var name when name.Equals(Lake.Name, StringComparison.OrdinalIgnoreCase) => Lake,
        var name => throw new InvalidOperationException($"{Key} must be store or lake (got '{name}')."),
    };

    public override string ToString() => Name;
}
