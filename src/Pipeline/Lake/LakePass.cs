using Pipeline.Storage;

namespace Pipeline.Lake;

/// <summary>
/// What one publishing pass takes, from the watermark the last pass left (<see cref="LakeState"/>). A slice is closed
/// once it ended <see cref="LakeOptions.Delay"/> ago; the pass publishes (a) every row of the slices closed since the
/// last pass, and (b) the rows of slices closed before it that were committed after it: late rows, and rows that
/// changed (a run that completed, a line found to be a mirror). (a) reads the rows by their time and (b) by their commit
/// time, each a range that zone maps narrow to a few row groups, so a pass costs what it publishes, not the store's size.
/// </summary>
internal sealed record LakePass(DateTime Cutoff, DateTime CommittedThrough, LakeState? Previous)
{
    /// <summary>
    /// The pass at <paramref name="now"/>, given the newest commit time the store holds. The cutoff and the commit
    /// watermark never go back, whatever the clock does. Null when there is nothing new to look at.
    /// </summary>
    public static LakePass? At(DateTime now, DateTime? newestCommit, LakeState? previous, TimeSpan sliceLength, TimeSpan delay)
    {
        var cutoff = LakeLayout.SliceStart(now - delay, sliceLength);
        var committed = newestCommit ?? DateTime.MinValue;
        if (previous is not null)
        {
            cutoff = cutoff > previous.Cutoff ? cutoff : previous.Cutoff;
            committed = committed > previous.CommittedThrough ? committed : previous.CommittedThrough;
            if (cutoff == previous.Cutoff && committed == previous.CommittedThrough)
            {
                return null;
            }
        }

        return new LakePass(cutoff, committed, previous);
    }

    /// <summary>The rows of slices newly closed: their time in [last cutoff, cutoff), committed by the watermark (or before commit times were kept).</summary>
    public string? NewSlices(LakeTable table)
    {
        if (Previous is not null && Cutoff == Previous.Cutoff)
        {
            return null;
        }

        var since = Previous is null ? "" : $"{table.TimeColumn} >= {DuckDbStore.Literal(Previous.Cutoff)} AND ";
        return $"{since}{table.TimeColumn} < {DuckDbStore.Literal(Cutoff)} AND ({table.CommitColumn} IS NULL OR {table.CommitColumn} <= {DuckDbStore.Literal(CommittedThrough)})";
    }

    /// <summary>The rows of slices closed before: their time before the last cutoff, committed after the last watermark and by this one.</summary>
    public string? LateRows(LakeTable table)
    {
        if (Previous is null || CommittedThrough == Previous.CommittedThrough)
        {
            return null;
        }

        return $"{table.CommitColumn} > {DuckDbStore.Literal(Previous.CommittedThrough)} AND {table.CommitColumn} <= {DuckDbStore.Literal(CommittedThrough)}"
            + $" AND {table.TimeColumn} < {DuckDbStore.Literal(Previous.Cutoff)}";
    }
}

/// <summary>The watermark of the last pass: slices ending at or before <paramref name="Cutoff"/> are published with every row committed by <paramref name="CommittedThrough"/>.</summary>
internal sealed record LakeState(DateTime Cutoff, DateTime CommittedThrough, long Passes);
