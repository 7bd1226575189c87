namespace Pipeline.Query;

/// <summary>The values a column takes in a period, for the pick lists of the filter editor.</summary>
internal static class PickLists
{
    public const int MaxValues = 200;

    /// <summary>
    /// The distinct values of <paramref name="column"/> (one of <paramref name="allowed"/>) among the rows of the
    /// script in the period, filter and search aside: most frequent first, as text, at most <see cref="MaxValues"/>.
    /// </summary>
    public static async Task<ColumnValues> ValuesAsync(
        ReadStore store, ColumnSet set, IReadOnlyList<string> allowed, ListRequest request, string? column, CancellationToken cancellationToken)
    {
        // The node a row came from, in lake mode: a column to pick from like the others.
        allowed = set.HasNode ? [.. allowed, ColumnSet.NodeName] : allowed;
        if (string.IsNullOrEmpty(column))
        {
            throw new QueryException($"column is required: one of {string.Join(", ", allowed)}");
        }

        if (!allowed.Contains(column) || set.Find(column) is not { } picked)
        {
            throw new QueryException($"column must be one of {string.Join(", ", allowed)} (got '{column}')");
        }

        var where = SqlWhere.For(request with { Filter = null, Search = null, RunId = null }, set, afterCursor: false);
        where.Add($"{picked.Sql} IS NOT NULL");
        var values = await store.ListAsync(
            $"SELECT CAST({picked.Sql} AS VARCHAR), count(*) FROM {where.From} WHERE {where} GROUP BY {picked.Sql} ORDER BY count(*) DESC, {picked.Sql} LIMIT {MaxValues}",
            where.Parameters, r => new ValueCount(r.GetString(0), r.GetInt64(1)), cancellationToken).ConfigureAwait(false);
        return new ColumnValues(column, values);
    }
}
