namespace Pipeline.Buffering;

/// <summary>
/// One export's claim on the writer: it completes when every row the export queued is committed to DuckDB,
/// and only then is the export answered. That is what makes an acknowledgement durable.
/// </summary>
internal sealed class CommitTicket(int rows)
{
    private readonly TaskCompletionSource _committed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pending = rows;

    public Task Committed => _committed.Task;

    /// <summary>Called by the writer after a commit that held <paramref name="count"/> of this ticket's rows.</summary>
    public void MarkCommitted(int count)
    {
        if (Interlocked.Add(ref _pending, -count) <= 0)
        {
            _committed.TrySetResult();
        }
    }

    public void Fail(Exception error) => _committed.TrySetException(error);

    public static CommitTicket Done()
    {
        var ticket = new CommitTicket(0);
        ticket._committed.TrySetResult();
        return ticket;
    }
}
