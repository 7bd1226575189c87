using Pipeline.Buffering;

namespace Pipeline.Ingest;

/// <summary>A decoded OTLP request, with the digest of its bytes (for deduplication) and their count (for admission).</summary>
internal sealed record OtlpPayload<T>(T Message, ExportDigest Digest, long Bytes);
