using System.IO.Hashing;
using Pipeline.Diagnostics;

namespace Pipeline.Buffering;

/// <summary>What identifies an export: a 128-bit hash of its signal and its bytes (after decompression).</summary>
internal readonly record struct ExportDigest(ulong High, ulong Low)
{
    public static ExportDigest Of(string signal, ReadOnlySpan<byte> payload)
    {
        var hash = Begin(signal);
        hash.Append(payload);
        return End(hash);
    }

    public static ExportDigest Of(string signal, System.Buffers.ReadOnlySequence<byte> payload)
    {
        var hash = Begin(signal);
        foreach (var segment in payload)
        {
            hash.Append(segment.Span);
        }

        return End(hash);
    }

    /// <summary>
    /// The digest of the same bytes sent under a token limited to scripts (<paramref name="scope"/>, its canonical
    /// key): what one scope refused, another may store, so repeats are told apart per scope. Unchanged when empty.
    /// </summary>
    public ExportDigest Within(string scope)
    {
        if (scope.Length == 0)
        {
            return this;
        }

        var hash = new XxHash128();
        Span<byte> self = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(self, High);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(self[8..], Low);
        hash.Append(self);
        hash.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(scope.AsSpan()));
        return End(hash);
    }

    private static XxHash128 Begin(string signal)
    {
        var hash = new XxHash128();
        hash.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(signal.AsSpan()));
        return hash;
    }

    private static ExportDigest End(XxHash128 hash)
    {
        var value = hash.GetCurrentHashAsUInt128();
        return new((ulong)(value >> 64), (ulong)value);
    }
}

/// <summary>
/// Insert deduplication by block, as ClickHouse does it (<c>non_replicated_deduplication_window</c>): an export that
/// repeats one committed within <see cref="DedupOptions.Window"/> is acknowledged without being stored again, and a
/// repeat of one still waiting for its commit waits on the same commit. Memory is bounded by
/// <see cref="DedupOptions.MaxExports"/>; the digests are also stored with each commit (table <c>export_digests</c>),
/// so the window survives a restart. No table-wide index is involved: the check is one dictionary lookup.
/// After the window, a repeat is a new export and is stored again (see docs/design.md).
/// </summary>
internal sealed class DedupWindow(DedupOptions options, TimeProvider clock, PipelineMetrics metrics)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<ExportDigest, DateTime> _committed = [];
    private readonly Queue<(ExportDigest Digest, DateTime At)> _order = new();
    private readonly Dictionary<ExportDigest, CommitTicket> _pending = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _committed.Count;
            }
        }
    }

    /// <summary>
    /// Claims <paramref name="digest"/> for a new export and returns its fresh ticket, or returns the ticket of the
    /// export it repeats (completed when that one is committed) with <paramref name="isRepeat"/> set.
    /// </summary>
    public CommitTicket Claim(ExportDigest digest, out bool isRepeat)
    {
        lock (_gate)
        {
            if (_committed.TryGetValue(digest, out var at) && at > clock.GetUtcNow().UtcDateTime - options.Window)
            {
                isRepeat = true;
                metrics.ExportDeduplicated();
                return CommitTicket.Done();
            }

            if (_pending.TryGetValue(digest, out var inFlight))
            {
                isRepeat = true;
                metrics.ExportDeduplicated();
                return inFlight;
            }

            var ticket = new CommitTicket();
            _pending[digest] = ticket;
            isRepeat = false;
            return ticket;
        }
    }

    /// <summary>The export was not queued or not committed: a repeat of it is a first try again.</summary>
    public void Abandon(ExportDigest digest)
    {
        lock (_gate)
        {
            _pending.Remove(digest);
        }
    }

    /// <summary>These exports were committed at <paramref name="at"/>: remember them for the window.</summary>
    public void Committed(IEnumerable<ExportDigest> digests, DateTime at)
    {
        lock (_gate)
        {
            foreach (var digest in digests)
            {
                _pending.Remove(digest);
                Remember(digest, at);
            }

            Expire(at);
        }
    }

    /// <summary>Digests stored by earlier runs of the daemon, oldest first, loaded at start.</summary>
    public void Load(IEnumerable<(ExportDigest Digest, DateTime At)> stored)
    {
        lock (_gate)
        {
            foreach (var (digest, at) in stored)
            {
                Remember(digest, at);
            }

            Expire(clock.GetUtcNow().UtcDateTime);
        }
    }

    private void Remember(ExportDigest digest, DateTime at)
    {
        if (_committed.TryAdd(digest, at))
        {
            _order.Enqueue((digest, at));
        }
    }

    private void Expire(DateTime now)
    {
        var horizon = now - options.Window;
        while (_order.TryPeek(out var oldest) && (oldest.At <= horizon || _order.Count > options.MaxExports))
        {
            _order.Dequeue();
            _committed.Remove(oldest.Digest);
            if (oldest.At > horizon)
            {
                metrics.DedupForgotEarly();
            }
        }
    }
}
