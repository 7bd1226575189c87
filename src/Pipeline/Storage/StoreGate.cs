namespace Pipeline.Storage;

/// <summary>
/// The door the query side goes through to the database, which the writer can close. DuckDB keeps a database open
/// in the process while any connection to it is open, so the writer can only open it afresh (and replay its
/// write-ahead log, the durable truth) once every reader has left. Closing the door interrupts the readers' queries,
/// waits for them to leave, and refuses new ones until it opens again. Heavy readers (ad hoc SQL, exports) can also be
/// interrupted alone, without closing anything, when the writer needs the memory they hold (see
/// <see cref="WriterService"/>): DuckDB has one memory pool for the writer and every query.
/// </summary>
internal sealed class StoreGate : IDisposable
{
    private readonly Lock _gate = new();
    private CancellationTokenSource _closing = new();
    private CancellationTokenSource _heavy = new();
    private TaskCompletionSource? _drained;
    private int _readers;
    private int _heavyReaders;
    private bool _closed;

    /// <summary>How many heavy readers are in now.</summary>
    public int HeavyReaders => Volatile.Read(ref _heavyReaders);

    /// <summary>
    /// Lets a reader in, with a token that fires when the door closes (or, for a heavy reader, when the writer needs
    /// its memory); false while the door is closed.
    /// </summary>
    public bool TryEnter(bool heavy, out CancellationToken interrupt)
    {
        lock (_gate)
        {
            interrupt = heavy ? _heavy.Token : _closing.Token;
            if (_closed)
            {
                return false;
            }

            _readers++;
            if (heavy)
            {
                _heavyReaders++;
            }

            return true;
        }
    }

    public void Exit(bool heavy)
    {
        lock (_gate)
        {
            if (heavy)
            {
                _heavyReaders--;
            }

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
        _heavy.Cancel();
        return drained.Wait(wait);
    }

    /// <summary>Interrupts the heavy readers in now; those that come later get a fresh token.</summary>
    public void InterruptHeavy()
    {
        CancellationTokenSource interrupted;
        lock (_gate)
        {
            interrupted = _heavy;
            _heavy = new CancellationTokenSource();
        }

        interrupted.Cancel();
    }

    public void Dispose()
    {
        _closing.Dispose();
        _heavy.Dispose();
    }

    public void Open()
    {
        lock (_gate)
        {
            _closed = false;
            _drained = null;
            _closing.Dispose();
            _closing = new CancellationTokenSource();
            if (_heavy.IsCancellationRequested)
            {
                _heavy.Dispose();
                _heavy = new CancellationTokenSource();
            }
        }
    }
}

/// <summary>The writer is opening the database afresh: a query cannot start now and should be asked again shortly.</summary>
internal sealed class StoreRestartingException(string message) : Exception(message);
