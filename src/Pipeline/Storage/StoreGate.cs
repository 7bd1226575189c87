namespace Pipeline.Storage;

/// <summary>
/// The door the query side goes through to the database, which the writer can close. DuckDB keeps a database open
/// in the process while any connection to it is open, so the writer can only open it afresh (and replay its
/// write-ahead log, the durable truth) once every reader has left. Closing the door interrupts the readers' queries,
/// waits for them to leave, and refuses new ones until it opens again.
/// </summary>
internal sealed class StoreGate : IDisposable
{
    private readonly Lock _gate = new();
    private CancellationTokenSource _closing = new();
    private TaskCompletionSource? _drained;
    private int _readers;
    private bool _closed;

    /// <summary>Lets a reader in, with a token that fires when the door closes; false while it is closed.</summary>
    public bool TryEnter(out CancellationToken closing)
    {
        lock (_gate)
        {
            closing = _closing.Token;
            if (_closed)
            {
                return false;
            }

            _readers++;
            return true;
        }
    }

    public void Exit()
    {
        lock (_gate)
        {
            if (--_readers == 0)
            {
                _drained?.TrySetResult();
            }
        }
    }

    /// <summary>Closes the door and interrupts the readers; true once all have left within <paramref name="wait"/>.</summary>
    public bool CloseAndDrain(TimeSpan wait)
    {
        Task drained;
        lock (_gate)
        {
            _closed = true;
            _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_readers == 0)
            {
                _drained.TrySetResult();
            }

            drained = _drained.Task;
        }

        _closing.Cancel();
        return drained.Wait(wait);
    }

    public void Dispose() => _closing.Dispose();

    public void Open()
    {
        lock (_gate)
        {
            _closed = false;
            _drained = null;
            _closing.Dispose();
            _closing = new CancellationTokenSource();
        }
    }
}

/// <summary>The writer is opening the database afresh: a query cannot start now and should be asked again shortly.</summary>
internal sealed class StoreRestartingException(string message) : Exception(message);
