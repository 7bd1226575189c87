namespace Pipeline.Buffering;

/// <summary>
/// One export's claim on the writer: it completes when the export's rows are committed to DuckDB, and only then is
/// the export answered. That is what makes an acknowledgement durable. A retry of an export still in flight waits on
/// the same ticket.
/// </summary>
internal sealed class CommitTicket
{
    private readonly TaskCompletionSource _committed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Committed => _committed.Task;

    public void MarkCommitted() => _committed.TrySetResult();

    public void Fail(Exception error) => _committed.TrySetException(error);

    public static CommitTicket Done()
    {
        var ticket = new CommitTicket();
        ticket.MarkCommitted();
        return ticket;
    }
}
