namespace Pipeline.Parsing;

/// <summary>What parsing made of one export request: rows to store, and the records it could not use, with why.</summary>
internal sealed class ParsedExport
{
    private const int MaxReasons = 3;
    private readonly List<string> _reasons = [];

    public List<IngestRow> Rows { get; } = [];

    /// <summary>Records refused (spans or log records, never lines).</summary>
    public int Rejected { get; private set; }

    public void Reject(string reason)
    {
        Rejected++;
        if (_reasons.Count < MaxReasons)
        {
            _reasons.Add(reason);
        }
    }

    /// <summary>The partial-success message: how many were refused and the first reasons.</summary>
    public string? ErrorMessage(string noun) => Rejected == 0
        ? null
        : $"{Rejected} {noun} rejected: {string.Join("; ", _reasons)}{(Rejected > _reasons.Count ? "; ..." : string.Empty)}";
}
