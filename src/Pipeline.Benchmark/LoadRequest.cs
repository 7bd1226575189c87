namespace Pipeline.Benchmark;

/// <summary>
/// One encoded OTLP trace export, and what storing it must show: the logs it adds to the <c>logs</c> view (korelogger
/// logs and printed lines that are not mirrors) and the runs it adds to <c>runs</c>.
/// </summary>
internal sealed record LoadRequest(byte[] Bytes, int Logs, int Runs);
