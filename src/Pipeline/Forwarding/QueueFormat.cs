using System.Buffers.Binary;
using System.IO.Hashing;

namespace Pipeline.Forwarding;

/// <summary>The signal a queued export belongs to: it says which OTLP service or path it is sent to.</summary>
internal enum SignalKind : byte
{
    Traces = 1,
    Logs = 2,
}

/// <summary>
/// A place in the queue: a segment file, a byte offset in it, and the record's ordinal (counted since the queue was
/// opened; it orders positions and counts records, and is never written to disk).
/// </summary>
internal readonly record struct QueuePosition(long Segment, long Offset, long Ordinal);

/// <summary>
/// One queued export read back: its signal and serialized request, where it starts and where the next begins.
/// <see cref="Corrupt"/> marks a damaged stretch that was skipped (its records are lost; <see cref="Skipped"/> says how many).
/// </summary>
internal sealed record QueueRecord(SignalKind Kind, byte[] Payload, QueuePosition Start, QueuePosition End, bool Corrupt = false, long Skipped = 0);

/// <summary>
/// The on-disk format of the forward queue. A segment file (<c>0000000000000001.seg</c>) starts with an 8-byte magic,
/// then holds records, each framed as: payload length (u32, little endian), CRC-32 of the kind byte and the payload
/// (u32), the kind (one byte), the payload (the protobuf export request). A record whose frame runs past the end of the
/// file, or whose CRC does not match, is a torn write. The read position (<c>position</c>) is 8 bytes of segment id,
/// 8 of offset and a CRC-32 of those 16, replaced whole by writing a temporary file and renaming it over.
/// </summary>
internal static class QueueFormat
{
    public const int HeaderBytes = 9;

    public const string SegmentSuffix = ".seg";

    public static ReadOnlySpan<byte> Magic => "PLFWDQ01"u8;

    public static int MagicBytes => Magic.Length;

    public static long FrameBytes(int payloadBytes) => HeaderBytes + (long)payloadBytes;

    public static string SegmentName(long id) => id.ToString("D16", System.Globalization.CultureInfo.InvariantCulture) + SegmentSuffix;

    public static bool TryParseSegmentId(string fileName, out long id)
    {
        id = 0;
        return fileName.EndsWith(SegmentSuffix, StringComparison.Ordinal)
               && long.TryParse(fileName.AsSpan(0, fileName.Length - SegmentSuffix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out id);
    }

    public static byte[] Header(SignalKind kind, ReadOnlySpan<byte> payload)
    {
        var header = new byte[HeaderBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), Checksum(kind, payload));
        header[8] = (byte)kind;
        return header;
    }

    public static uint Checksum(SignalKind kind, ReadOnlySpan<byte> payload)
    {
        var crc = new Crc32();
        crc.Append([(byte)kind]);
        crc.Append(payload);
        return crc.GetCurrentHashAsUInt32();
    }

    /// <summary>Reads a frame's header: payload length, checksum and kind; false if the kind is not one we know.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> header, out int length, out uint checksum, out SignalKind kind)
    {
        var raw = BinaryPrimitives.ReadUInt32LittleEndian(header);
        checksum = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        kind = (SignalKind)header[8];
        length = raw > int.MaxValue ? -1 : (int)raw;
        return length >= 0 && kind is SignalKind.Traces or SignalKind.Logs;
    }

    public static byte[] Position(long segment, long offset)
    {
        var bytes = new byte[20];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, segment);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), offset);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), Crc32.HashToUInt32(bytes.AsSpan(0, 16)));
        return bytes;
    }

    public static bool TryReadPosition(ReadOnlySpan<byte> bytes, out long segment, out long offset)
    {
        segment = offset = 0;
        if (bytes.Length != 20 || BinaryPrimitives.ReadUInt32LittleEndian(bytes[16..]) != Crc32.HashToUInt32(bytes[..16]))
        {
            return false;
        }

        segment = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        offset = BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]);
        return true;
    }
}
