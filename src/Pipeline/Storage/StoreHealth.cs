namespace Pipeline.Storage;

/// <summary>
/// Whether the store takes commits: failed from the moment a commit fails for a reason of the store's own (disk
/// full, I/O error, a corrupt or invalidated file) until a commit succeeds again. <c>/readyz</c> answers from it.
/// </summary>
internal sealed class StoreHealth(TimeProvider clock)
{
    private readonly Lock _gate = new();
    private string? _failure;
    private DateTime _since;

    /// <summary>Why commits fail, and since when; null while they succeed.</summary>
    public (string Reason, DateTime Since)? Failure
    {
        get
        {
            lock (_gate)
            {
                return _failure is null ? null : (_failure, _since);
            }
        }
    }

    public void Failed(string reason)
    {
        lock (_gate)
        {
            if (_failure is null)
            {
                _since = clock.GetUtcNow().UtcDateTime;
            }

            _failure = reason;
        }
    }

    public void Succeeded()
    {
        lock (_gate)
        {
            _failure = null;
        }
    }
}
