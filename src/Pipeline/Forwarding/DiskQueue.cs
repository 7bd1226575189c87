using Microsoft.Win32.SafeHandles;

namespace Pipeline.Forwarding;

/// <summary>
/// The forward queue on disk: records appended to segment files (<see cref="QueueFormat"/>), read back in order, and
/// consumed when the upstream has acknowledged them. One process at a time (a lock file). Bounded: the segment files
/// together stay within <c>maxBytes</c>; room is made by dropping whole segments, oldest first, when the caller asks for
/// it (<see cref="TryReserve"/>).
/// <para>
/// Durability: an append returns once its bytes are flushed to disk (fsync), appends that arrive together sharing one
/// flush (group commit). A new segment is flushed with its folder entry before it takes records, and the segment it
/// follows is flushed before it is left. The read position is replaced atomically (temporary file, rename) and not
/// flushed: losing it to a power cut only means records are sent again, never that one is skipped. At open, a record
/// torn by a crash (its frame past the end of the file, or its checksum wrong) is cut off with everything after it in
/// the last segment: such a record was never acknowledged to its client.
/// </para>
/// </summary>
internal sealed class DiskQueue : IDisposable
{
    private const string PositionFile = "position";
    private const string LockFile = "lock";

    /// <summary>A drained segment at least this long is cut back to empty.</summary>
    private const long ResetBytes = 64 * 1024;

    private readonly string _folder;
    private readonly long _maxBytes;
    private readonly long _segmentBytes;
    private readonly FileStream _lock;
    private readonly Lock _gate = new();
    private readonly List<Segment> _segments = [];
    private readonly SemaphoreSlim _syncGate = new(1, 1);
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private QueuePosition _head;
    private QueuePosition _read;
    private long _tailOrdinal;
    private long _reserved;
    private long _appendSeq;
    private long _syncedSeq;
    private long _nextSegmentId = 1;
    private bool _disposed;

    private DiskQueue(string folder, long maxBytes, FileStream lockFile)
    {
        _folder = folder;
        _maxBytes = maxBytes;
        _segmentBytes = Math.Clamp(maxBytes / 16, 1L << 20, 64L << 20);
        _lock = lockFile;
    }

    /// <summary>Bytes the segment files take on disk.</summary>
    public long DiskBytes
    {
        get
        {
            lock (_gate)
            {
                return _segments.Sum(s => s.Length);
            }
        }
    }

    /// <summary>Records appended and not yet consumed.</summary>
    public long PendingRecords
    {
        get
        {
            lock (_gate)
            {
                return _tailOrdinal - _head.Ordinal;
            }
        }
    }

    /// <summary>What opening found: records cut off as torn, files removed as damaged.</summary>
    public OpenReport Opened { get; private set; } = new(0, 0, 0);

    /// <summary>The largest payload a record may carry: one segment's worth of the whole bound.</summary>
    public long MaxPayloadBytes => _maxBytes - QueueFormat.MagicBytes - QueueFormat.HeaderBytes;

    public static DiskQueue Open(string folder, long maxBytes)
    {
        Directory.CreateDirectory(folder);
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(Path.Combine(folder, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"the forward queue {folder} is in use by another process ({ex.Message})", ex);
        }

        var queue = new DiskQueue(folder, maxBytes, lockFile);
        try
        {
            queue.Recover();
        }
        catch
        {
            queue.Dispose();
            throw;
        }

        return queue;
    }

    /// <summary>
    /// Asks for room for a record of <paramref name="frameBytes"/>. When there is none and <paramref name="dropOldest"/>
    /// is set, whole segments are dropped, oldest first, until there is; their unsent records are counted in
    /// <paramref name="dropped"/>. False: no room (or the record could never fit).
    /// </summary>
    public bool TryReserve(long frameBytes, bool dropOldest, out long dropped)
    {
        dropped = 0;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (frameBytes > MaxPayloadBytes + QueueFormat.HeaderBytes)
            {
                return false;
            }

            // A record that will not fit the current segment opens a new one: count its magic too.
            var need = frameBytes + QueueFormat.MagicBytes;
            while (_segments.Sum(s => s.Length) + _reserved + need > _maxBytes)
            {
                if (!dropOldest || _segments.Count == 0 || (_segments.Count == 1 && _segments[0].Length <= QueueFormat.MagicBytes))
                {
                    return false;
                }

                dropped += DropHeadSegment();
            }

            _reserved += frameBytes;
            return true;
        }
    }

    /// <summary>Gives back room reserved for a record that will not be appended.</summary>
    public void Release(long frameBytes)
    {
        lock (_gate)
        {
            _reserved -= frameBytes;
        }
    }

    /// <summary>Appends a record in room reserved for it; returns once it is on disk.</summary>
    public async Task AppendAsync(SignalKind kind, byte[] payload)
    {
        var header = QueueFormat.Header(kind, payload);
        long seq;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _reserved -= QueueFormat.FrameBytes(payload.Length);
            var segment = _segments[^1];
            if (segment.Length > QueueFormat.MagicBytes && segment.Length + QueueFormat.FrameBytes(payload.Length) > _segmentBytes)
            {
                segment = Roll();
            }

            // Written under the lock: a reader must never see a tail whose bytes are not there yet. The write goes to the
            // page cache; the flush that makes it durable is shared, below.
            RandomAccess.Write(segment.Handle, [header, payload], segment.Length);
            segment.Length += QueueFormat.FrameBytes(payload.Length);
            segment.Records++;
            _tailOrdinal++;
            seq = ++_appendSeq;
            _appended.TrySetResult();
        }

        await SyncAsync(seq).ConfigureAwait(false);
    }

    /// <summary>The next record after those already read, waiting for one to be appended.</summary>
    public async Task<QueueRecord> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            Segment segment;
            QueuePosition at;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                NormalizeRead();
                at = _read;
                segment = _segments.First(s => s.Id == at.Segment);
                if (at.Offset < segment.Length)
                {
                    wait = Task.CompletedTask;
                }
                else
                {
                    if (_appended.Task.IsCompleted)
                    {
                        _appended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        continue;
                    }

                    wait = _appended.Task;
                }
            }

            if (!wait.IsCompleted)
            {
                await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            var record = ReadAt(segment, at);
            lock (_gate)
            {
                // A drop may have moved the cursor on meanwhile: then this record is gone, read the next.
                if (record is not null && _read == at)
                {
                    _read = record.End;
                    return record;
                }
            }
        }
    }

    /// <summary>
    /// Everything before <paramref name="end"/> has been acknowledged: the read position moves there (persisted) and
    /// segments wholly before it are deleted. A position at or before the current one changes nothing.
    /// </summary>
    public void Commit(QueuePosition end)
    {
        List<Segment> done;
        lock (_gate)
        {
            if (_disposed || end.Ordinal <= _head.Ordinal)
            {
                return;
            }

            _head = end;
            done = TakeConsumedSegments();
            if (_head.Ordinal == _tailOrdinal && _read.Ordinal == _tailOrdinal && _segments.Count == 1 && _segments[0].Length >= ResetBytes)
            {
                // Drained: the segment being written starts over, so that an idle queue takes no room. The position is
                // written first, and flushed with its folder entry: new records will be written where the consumed ones
                // were, so a position lost to a power cut must not point into them. A crash in between only sends the
                // consumed records again.
                var segment = _segments[0];
                _head = _read = new QueuePosition(segment.Id, QueueFormat.MagicBytes, _tailOrdinal);
                WritePosition(_head, durable: true);
                RandomAccess.SetLength(segment.Handle, QueueFormat.MagicBytes);
                segment.Length = QueueFormat.MagicBytes;
                segment.Records = 0;
                segment.FirstOrdinal = _tailOrdinal;
            }
            else
            {
                // Under the lock, like every position write: positions reach the file in the order they were taken.
                WritePosition(_head);
            }
        }

        Delete(done);
    }

    /// <summary>Sends the read cursor back to the acknowledged position (records read but not acknowledged are read again).</summary>
    public void Rewind()
    {
        lock (_gate)
        {
            _read = _head;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var segment in _segments)
            {
                segment.Handle.Dispose();
            }

            _appended.TrySetCanceled();
        }

        _lock.Dispose();
    }

    private void Recover()
    {
        foreach (var stale in Directory.EnumerateFiles(_folder, "*.tmp"))
        {
            File.Delete(stale);
        }

        var ids = Directory.EnumerateFiles(_folder, "*" + QueueFormat.SegmentSuffix)
            .Select(f => QueueFormat.TryParseSegmentId(Path.GetFileName(f), out var id) ? id : -1)
            .Where(id => id >= 0)
            .Order()
            .ToList();

        var (headSegment, headOffset) = ReadPosition();
        _nextSegmentId = Math.Max(headSegment, ids.Count > 0 ? ids[^1] : 0) + 1;
        long torn = 0, damaged = 0, ordinal = 0;
        var magic = new byte[QueueFormat.MagicBytes];
        foreach (var id in ids)
        {
            var path = Path.Combine(_folder, QueueFormat.SegmentName(id));
            if (id < headSegment)
            {
                // Consumed; the daemon stopped before it deleted it.
                File.Delete(path);
                continue;
            }

            var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            var length = RandomAccess.GetLength(handle);
            if (length < QueueFormat.MagicBytes || RandomAccess.Read(handle, magic, 0) != magic.Length || !magic.AsSpan().SequenceEqual(QueueFormat.Magic))
            {
                // Created but never written (a crash right after creating it), or not ours: nothing acknowledged is in it.
                handle.Dispose();
                File.Delete(path);
                damaged++;
                continue;
            }

            var start = id == headSegment ? Math.Clamp(headOffset, QueueFormat.MagicBytes, length) : QueueFormat.MagicBytes;
            var (end, records) = Scan(handle, start, length, verify: id == ids[^1]);
            if (end < length)
            {
                torn += length - end;
                RandomAccess.SetLength(handle, end);
                RandomAccess.FlushToDisk(handle);
            }

            _segments.Add(new Segment(id, handle) { Length = end, Records = records, FirstOrdinal = ordinal });
            if (_segments.Count == 1)
            {
                _head = _read = new QueuePosition(id, start, ordinal);
            }

            ordinal += records;
        }

        _tailOrdinal = ordinal;
        if (_segments.Count == 0 || _segments[^1].Length >= _segmentBytes)
        {
            Roll();
            if (_segments.Count == 1)
            {
                _head = _read = new QueuePosition(_segments[0].Id, QueueFormat.MagicBytes, ordinal);
            }
        }

        Opened = new OpenReport(_tailOrdinal, torn, damaged);
    }

    /// <summary>Walks the frames from <paramref name="start"/>: where the last whole one ends, and how many there are.</summary>
    private static (long End, long Records) Scan(SafeFileHandle handle, long start, long length, bool verify)
    {
        var header = new byte[QueueFormat.HeaderBytes];
        var at = start;
        long records = 0;
        while (at + QueueFormat.HeaderBytes <= length)
        {
            RandomAccess.Read(handle, header, at);
            if (!QueueFormat.TryReadHeader(header, out var size, out var checksum, out var kind) || at + QueueFormat.FrameBytes(size) > length)
            {
                break;
            }

            if (verify)
            {
                var payload = new byte[size];
                if (RandomAccess.Read(handle, payload, at + QueueFormat.HeaderBytes) != size || QueueFormat.Checksum(kind, payload) != checksum)
                {
                    break;
                }
            }

            at += QueueFormat.FrameBytes(size);
            records++;
        }

        return (at, records);
    }

    /// <summary>The record at <paramref name="at"/>; null when its segment was dropped while it was read.</summary>
    private QueueRecord? ReadAt(Segment segment, QueuePosition at)
    {
        try
        {
            var header = new byte[QueueFormat.HeaderBytes];
            if (RandomAccess.Read(segment.Handle, header, at.Offset) == header.Length
                && QueueFormat.TryReadHeader(header, out var size, out var checksum, out var kind)
                && at.Offset + QueueFormat.FrameBytes(size) <= segment.Length)
            {
                var payload = new byte[size];
                if (RandomAccess.Read(segment.Handle, payload, at.Offset + QueueFormat.HeaderBytes) == size && QueueFormat.Checksum(kind, payload) == checksum)
                {
                    return new QueueRecord(kind, payload, at, new QueuePosition(at.Segment, at.Offset + QueueFormat.FrameBytes(size), at.Ordinal + 1));
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // The segment was dropped while we read it: the cursor has moved on, the caller reads the next record.
            return null;
        }

        // Damaged on disk after it was written: nothing in this segment after it can be trusted to be framed.
        lock (_gate)
        {
            var end = new QueuePosition(segment.Id, segment.Length, segment.FirstOrdinal + segment.Records);
            return new QueueRecord(SignalKind.Traces, [], at, end, Corrupt: true, Skipped: end.Ordinal - at.Ordinal);
        }
    }

    /// <summary>Moves the read cursor past the end of a finished segment, or onto the head when its segment was dropped.</summary>
    private void NormalizeRead()
    {
        if (_read.Ordinal < _head.Ordinal || _segments.All(s => s.Id != _read.Segment))
        {
            _read = _head;
        }

        while (true)
        {
            var index = _segments.FindIndex(s => s.Id == _read.Segment);
            if (index < 0 || index == _segments.Count - 1 || _read.Offset < _segments[index].Length)
            {
                return;
            }

            _read = new QueuePosition(_segments[index + 1].Id, QueueFormat.MagicBytes, _read.Ordinal);
        }
    }

    /// <summary>Removes from the list the segments the head has passed (never the one being written); the caller deletes them.</summary>
    private List<Segment> TakeConsumedSegments()
    {
        var done = new List<Segment>();
        while (_segments.Count > 1 && (_segments[0].Id < _head.Segment || _head.Offset >= _segments[0].Length && _segments[0].Id == _head.Segment))
        {
            done.Add(_segments[0]);
            _segments.RemoveAt(0);
            if (_head.Segment <= done[^1].Id)
            {
                _head = new QueuePosition(_segments[0].Id, QueueFormat.MagicBytes, _head.Ordinal);
            }
        }

        return done;
    }

    /// <summary>Drops the oldest segment with whatever it still holds; returns how many unsent records went with it.</summary>
    private long DropHeadSegment()
    {
        if (_segments.Count == 1)
        {
            Roll();
        }

        var first = _segments[0];
        var next = _segments[1];
        var dropped = next.FirstOrdinal - _head.Ordinal;
        _segments.RemoveAt(0);
        _head = new QueuePosition(next.Id, QueueFormat.MagicBytes, next.FirstOrdinal);
        if (_read.Ordinal < _head.Ordinal)
        {
            _read = _head;
        }

        // The position is written before the file goes, so that no restart looks for it.
        WritePosition(_head);
        Delete([first]);
        return dropped;
    }

    /// <summary>Starts a new segment after flushing the current one; the new file and its folder entry are on disk before it takes a record.</summary>
    private Segment Roll()
    {
        if (_segments.Count > 0)
        {
            RandomAccess.FlushToDisk(_segments[^1].Handle);
        }

        var id = _segments.Count > 0 ? _segments[^1].Id + 1 : _nextSegmentId;
        var handle = File.OpenHandle(Path.Combine(_folder, QueueFormat.SegmentName(id)), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
        RandomAccess.Write(handle, QueueFormat.Magic, 0);
        RandomAccess.FlushToDisk(handle);
        Storage.Folders.Sync(_folder);
        var segment = new Segment(id, handle) { Length = QueueFormat.MagicBytes, FirstOrdinal = _tailOrdinal };
        _segments.Add(segment);
        return segment;
    }

    /// <summary>Group commit: one flush covers every append made before it started.</summary>
    private async Task SyncAsync(long seq)
    {
        if (Interlocked.Read(ref _syncedSeq) >= seq)
        {
            return;
        }

        await _syncGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (Interlocked.Read(ref _syncedSeq) >= seq)
            {
                return;
            }

            long target;
            SafeFileHandle handle;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                target = _appendSeq;
                handle = _segments[^1].Handle;
            }

            // Appends to earlier segments were flushed when their segment was left; so was this one if it has been
            // left (and perhaps dropped) meanwhile.
            try
            {
                RandomAccess.FlushToDisk(handle);
            }
            catch (ObjectDisposedException)
            {
                // Left, so flushed, and dropped since.
            }

            Interlocked.Exchange(ref _syncedSeq, target);
        }
        finally
        {
            _syncGate.Release();
        }
    }

    private (long Segment, long Offset) ReadPosition()
    {
        try
        {
            var bytes = File.ReadAllBytes(Path.Combine(_folder, PositionFile));
            return QueueFormat.TryReadPosition(bytes, out var segment, out var offset) ? (segment, offset) : (0, 0);
        }
        catch (FileNotFoundException)
        {
            return (0, 0);
        }
    }

    /// <summary>Replaces the position file whole (temporary file, rename); called under the lock.</summary>
    /// <summary>
    /// Replaces the position file (a temporary file renamed over it). Not flushed as a rule: a position lost to a power
    /// cut only means records are sent again. <paramref name="durable"/> flushes it and its folder entry, for when the
    /// records behind it are about to be overwritten.
    /// </summary>
    private void WritePosition(QueuePosition head, bool durable = false)
    {
        var temp = Path.Combine(_folder, PositionFile + ".tmp");
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            file.Write(QueueFormat.Position(head.Segment, head.Offset));
            if (durable)
            {
                file.Flush(flushToDisk: true);
            }
        }

        File.Move(temp, Path.Combine(_folder, PositionFile), overwrite: true);
        if (durable)
        {
            Storage.Folders.Sync(_folder);
        }
    }

    private void Delete(List<Segment> segments)
    {
        foreach (var segment in segments)
        {
            segment.Handle.Dispose();
            File.Delete(Path.Combine(_folder, QueueFormat.SegmentName(segment.Id)));
        }
    }

    private sealed class Segment(long id, SafeFileHandle handle)
    {
        public long Id { get; } = id;

        public SafeFileHandle Handle { get; } = handle;

        public long Length { get; set; }

        public long Records { get; set; }

        /// <summary>The ordinal of the first record counted in this segment (for the head segment at open: the first unconsumed one).</summary>
        public long FirstOrdinal { get; set; }
    }
}

/// <summary>What <see cref="DiskQueue.Open"/> found: records waiting, bytes cut off as torn, segment files removed as unusable.</summary>
internal sealed record OpenReport(long Records, long TornBytes, long DamagedSegments);
