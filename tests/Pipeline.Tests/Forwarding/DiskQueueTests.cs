using Pipeline.Forwarding;
using Pipeline.Tests.Support;

namespace Pipeline.Tests.Forwarding;

public sealed class DiskQueueTests
{
    private const long MiB = 1024 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Append_ThenRead_GivesTheRecordsInOrder()
    {
        var folder = new TempFolder().Path;
        using var queue = DiskQueue.Open(folder, 16 * MiB);

        await AppendAsync(queue, SignalKind.Traces, Bytes(1, 100));
        await AppendAsync(queue, SignalKind.Logs, Bytes(2, 200));

        var first = await queue.ReadAsync(CancellationToken.None).WaitAsync(Timeout);
        var second = await queue.ReadAsync(CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(SignalKind.Traces, first.Kind);
        Assert.Equal(Bytes(1, 100), first.Payload);
        Assert.Equal(SignalKind.Logs, second.Kind);
        Assert.Equal(Bytes(2, 200), second.Payload);
        Assert.Equal(2, queue.PendingRecords);

        queue.Commit(second.End);

        Assert.Equal(0, queue.PendingRecords);
    }

    [Fact]
    public async Task Read_WaitsForTheNextAppend()
    {
        using var queue = DiskQueue.Open(new TempFolder().Path, 16 * MiB);
        var reading = queue.ReadAsync(CancellationToken.None);
        Assert.False(reading.IsCompleted);

        await AppendAsync(queue, SignalKind.Logs, Bytes(7, 10));

        Assert.Equal(Bytes(7, 10), (await reading.WaitAsync(Timeout)).Payload);
    }

    [Fact]
    public async Task Reopen_ResumesAfterTheLastCommit_AndReadsTheUnacknowledgedAgain()
    {
        var folder = new TempFolder().Path;
        using (var queue = DiskQueue.Open(folder, 16 * MiB))
        {
            for (byte i = 0; i < 5; i++)
            {
                await AppendAsync(queue, SignalKind.Traces, Bytes(i, 50));
            }

            var first = await queue.ReadAsync(CancellationToken.None).WaitAsync(Timeout);
            var second = await queue.ReadAsync(CancellationToken.None).WaitAsync(Timeout);
            _ = await queue.ReadAsync(CancellationToken.None).WaitAsync(Timeout);
            queue.Commit(first.End);
            queue.Commit(second.End);
        }

        using var reopened = DiskQueue.Open(folder, 16 * MiB);

        Assert.Equal(3, reopened.PendingRecords);
        Assert.Equal(Bytes(2, 50), (await reopened.ReadAsync(CancellationToken.None).WaitAsync(Timeout)).Payload);
    }

    [Fact]
    public async Task Open_CutsOffATornTail()
    {
        var folder = new TempFolder().Path;
        using (var queue = DiskQueue.Open(folder, 16 * MiB))
        {
            await AppendAsync(queue, SignalKind.Traces, Bytes(1, 100));
            await AppendAsync(queue, SignalKind.Traces, Bytes(2, 100));
        }

        // A crash mid-append: the last frame lost its end.
        var segment = Directory.GetFiles(folder, "*.seg").Single();
        var length = new FileInfo(segment).Length;
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(length - 30);
        }

        using var reopened = DiskQueue.Open(folder, 16 * MiB);
        await AppendAsync(reopened, SignalKind.Logs, Bytes(3, 10));

        Assert.True(reopened.Opened.TornBytes > 0);
        Assert.Equal(2, reopened.PendingRecords);
        Assert.Equal(Bytes(1, 100), (await reopened.ReadAsync(CancellationToken.None).WaitAsync(Timeout)).Payload);
        Assert.Equal(Bytes(3, 10), (await reopened.ReadAsync(CancellationToken.None).WaitAsync(Timeout)).Payload);
    }

    [Fact]
    public async Task Open_CutsOffATailWhoseChecksumIsWrong()
    {
        var folder = new TempFolder().Path;
        using (var queue = DiskQueue.Open(folder, 16 * MiB))
        {
            await AppendAsync(queue, SignalKind.Traces, Bytes(1, 100));
            await AppendAsync(queue, SignalKind.Traces, Bytes(2, 100));
        }

        var segment = Directory.GetFiles(folder, "*.seg").Single();
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.Position = file.Length - 5;
            file.WriteByte(0xFF);
        }

        using var reopened = DiskQueue.Open(folder, 16 * MiB);

        Assert.Equal(1, reopened.PendingRecords);
    }

    [Fact]
    public async Task Segments_RollAndAreDeletedOnceConsumed()
    {
        var folder = new TempFolder().Path;
        using var queue = DiskQueue.Open(folder, 16 * MiB);
        for (var i = 0; i < 30; i++)
        {
            await AppendAsync(queue, SignalKind.Traces, Bytes((byte)i, 200_000));
        }

        Assert.True(Directory.GetFiles(folder, "*.seg").Length > 3);
        QueueRecord last = null!;
        for (var i = 0; i < 30; i++)
        {
            last = await queue.ReadAsync(CancellationToken.None).WaitAsync(Timeout);
            Assert.Equal((byte)i, last.Payload[0]);
        }

        queue.Commit(last.End);

        Assert.Single(Directory.GetFiles(folder, "*.seg"));
        Assert.True(queue.DiskBytes < 64 * 1024, $"a drained queue takes {queue.DiskBytes} bytes");
    }

    [Fact]
    public async Task Full_RefuseNew_RefusesAndKeepsWhatIsQueued()
    {
        using var queue = DiskQueue.Open(new TempFolder().Path, 16 * MiB);
        var appended = 0;
        while (queue.TryReserve(QueueFormat.FrameBytes(500_000), dropOldest: false, out _))
        {
            await queue.AppendAsync(SignalKind.Traces, Bytes((byte)appended++, 500_000));
        }

        Assert.InRange(appended, 25, 33);
        Assert.Equal(appended, queue.PendingRecords);
        Assert.True(queue.DiskBytes <= 16 * MiB);
    }

    [Fact]
    public async Task Full_DropOldest_DropsTheOldestSegmentsAndCountsTheirRecords()
    {
        using var queue = DiskQueue.Open(new TempFolder().Path, 16 * MiB);
        long dropped = 0;
        for (var i = 0; i < 100; i++)
        {
            Assert.True(queue.TryReserve(QueueFormat.FrameBytes(500_000), dropOldest: true, out var now));
            dropped += now;
            await queue.AppendAsync(SignalKind.Traces, Bytes((byte)i, 500_000));
        }

        Assert.True(dropped > 60, $"dropped {dropped}");
        Assert.Equal(100 - dropped, queue.PendingRecords);
        Assert.True(queue.DiskBytes <= 16 * MiB);
        var first = await queue.ReadAsync(CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal((byte)dropped, first.Payload[0]);
    }

    [Fact]
    public async Task Drop_WhileARecordIsRead_MovesTheReaderOn_AndItsLateCommitChangesNothing()
    {
        using var queue = DiskQueue.Open(new TempFolder().Path, 16 * MiB);
        for (var i = 0; i < 10; i++)
        {
            await AppendAsync(queue, SignalKind.Traces, Bytes((byte)i, 500_000));
        }

        var inFlight = await queue.ReadAsync(CancellationToken.None).WaitAsync(Timeout);
        for (var i = 10; i < 40; i++)
        {
            Assert.True(queue.TryReserve(QueueFormat.FrameBytes(500_000), dropOldest: true, out _));
            await queue.AppendAsync(SignalKind.Traces, Bytes((byte)i, 500_000));
        }

        var pending = queue.PendingRecords;
        queue.Commit(inFlight.End);

        Assert.Equal(pending, queue.PendingRecords);
        Assert.True((await queue.ReadAsync(CancellationToken.None).WaitAsync(Timeout)).Payload[0] > 1);
    }

    [Fact]
    public void Open_ASecondTime_IsRefusedWhileTheFirstHoldsIt()
    {
        var folder = new TempFolder().Path;
        using var queue = DiskQueue.Open(folder, 16 * MiB);

        var error = Assert.Throws<IOException>(() => DiskQueue.Open(folder, 16 * MiB));

        Assert.Contains("in use", error.Message);
    }

    [Fact]
    public void TooLarge_IsNeverReserved()
    {
        using var queue = DiskQueue.Open(new TempFolder().Path, 16 * MiB);

        Assert.False(queue.TryReserve(17 * MiB, dropOldest: true, out var dropped));
        Assert.Equal(0, dropped);
    }

    private static async Task AppendAsync(DiskQueue queue, SignalKind kind, byte[] payload)
    {
        Assert.True(queue.TryReserve(QueueFormat.FrameBytes(payload.Length), dropOldest: false, out _));
        await queue.AppendAsync(kind, payload).WaitAsync(Timeout);
    }

    private static byte[] Bytes(byte first, int length)
    {
        var bytes = new byte[length];
        Array.Fill(bytes, (byte)(first ^ 0x5A));
        bytes[0] = first;
        return bytes;
    }
}
