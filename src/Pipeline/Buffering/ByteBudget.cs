namespace Pipeline.Buffering;

/// <summary>
/// A count of bytes that may be held at once, shared by many callers: the requests being decoded, or the rows
/// waiting for the writer. A caller reserves before it allocates and releases when it is done; a caller that cannot
/// get room waits in line (first come, first served) for at most a given time. A reservation larger than the whole
/// budget is cut to the budget, so it still goes through, alone, when everything else is released.
/// </summary>
internal sealed class ByteBudget(long capacity)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<(long Bytes, TaskCompletionSource<bool> Granted)> _waiting = new();
    private long _used;

    public long Capacity => capacity;

    public long Used
    {
        get
        {
            lock (_gate)
            {
                return _used;
            }
        }
    }

    /// <summary>The amount actually held for a request of <paramref name="bytes"/> (never more than the budget).</summary>
    public long Clamp(long bytes) => Math.Clamp(bytes, 0, capacity);

    /// <summary>Takes room now if there is room and nobody is waiting; never waits.</summary>
    public bool TryReserve(long bytes)
    {
        bytes = Clamp(bytes);
        lock (_gate)
        {
            if (_waiting.Count == 0 && _used + bytes <= capacity)
            {
                _used += bytes;
                return true;
            }

            return false;
        }
    }

    /// <summary>Takes room, waiting in line at most <paramref name="wait"/>; false when the wait ran out.</summary>
    public async ValueTask<bool> ReserveAsync(long bytes, TimeSpan wait, CancellationToken cancellationToken)
    {
        bytes = Clamp(bytes);
        LinkedListNode<(long, TaskCompletionSource<bool>)> node;
        lock (_gate)
        {
            if (_waiting.Count == 0 && _used + bytes <= capacity)
            {
                _used += bytes;
                return true;
            }

            if (wait <= TimeSpan.Zero)
            {
                return false;
            }

            node = _waiting.AddLast((bytes, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously)));
        }

        var granted = node.Value.Item2.Task;
        try
        {
            await granted.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            lock (_gate)
            {
                if (node.List is not null)
                {
                    _waiting.Remove(node);
                    GrantWaiting();
                }
                else
                {
                    // Granted just as the wait ended: give the room back.
                    _used -= bytes;
                    GrantWaiting();
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }
    }

    public void Release(long bytes)
    {
        bytes = Clamp(bytes);
        lock (_gate)
        {
            _used -= bytes;
            GrantWaiting();
        }
    }

    private void GrantWaiting()
    {
        while (_waiting.First is { } first && _used + first.Value.Bytes <= capacity)
        {
            _used += first.Value.Bytes;
            _waiting.RemoveFirst();
            first.Value.Granted.TrySetResult(true);
        }
    }
}
