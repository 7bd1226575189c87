using Pipeline.Hosting;

namespace Pipeline.Api;

/// <summary>Config section <c>Api</c>: the query API's listener and the limits of what it answers.</summary>
public sealed class ApiOptions : IValidatedOptions
{
    public const string Section = "Api";

    /// <summary>Query API listener (HTTP/1.1), host:port. Port 0 takes a free port.</summary>
    public string Endpoint { get; set; } = "127.0.0.1:8080";

    /// <summary>
    /// PEM certificate of the API listener (intermediates may follow it in the file); with <see cref="CertificateKey"/>
    /// the listener serves TLS, offering HTTP/2 and HTTP/1.1 by ALPN, re-reading both when they change. Empty: plain text.
    /// </summary>
    public string Certificate { get; set; } = string.Empty;

    /// <summary>PEM private key (unencrypted) of <see cref="Certificate"/>.</summary>
    public string CertificateKey { get; set; } = string.Empty;

    /// <summary>Rows a list page may hold at most (<c>limit</c>).</summary>
    public int MaxPageSize { get; set; } = 1000;

    /// <summary>Rows an ad hoc SQL query returns at most (the answer says when it was cut).</summary>
    public int SqlMaxRows { get; set; } = 10_000;

    /// <summary>How long an ad hoc SQL query may run before it is stopped.</summary>
    public TimeSpan SqlTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Bytes an ad hoc SQL answer may carry at most: each value is cut inside DuckDB to a share of it (a quarter,
    /// divided among the columns), and rows stop before the answer passes it (the answer says what was cut).
    /// </summary>
    public int SqlMaxBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Ad hoc SQL queries that may run at once; more wait <see cref="QueueTimeout"/> for a slot, then get 429.</summary>
    public int MaxConcurrentSql { get; set; } = 1;

    /// <summary>Exports that may be written and downloaded at once; more wait <see cref="QueueTimeout"/>, then get 429.</summary>
    public int MaxConcurrentExports { get; set; } = 1;

    /// <summary>
    /// SQL queries and exports that may run at once together. DuckDB has one memory pool (<c>Storage:MemoryLimit</c>)
    /// for the writer and every query: heavy queries side by side can pin all of it and make a commit fail.
    /// </summary>
    public int MaxConcurrentHeavy { get; set; } = 1;

    /// <summary>How long a SQL query or an export waits for a free slot before it is answered 429 with Retry-After.</summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long an export may take from its start to the end of its download.</summary>
    public TimeSpan ExportTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a list, summary, trend or record query may run.</summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an online backup (<c>POST /api/backup</c>) may take, from its start to the end of its download.</summary>
    public TimeSpan BackupTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Bytes the export folder may hold at once (files being written or downloaded); an export that would pass it is refused.</summary>
    public long ExportFolderMaxBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>The largest request body the API port reads (the SQL endpoint's is the only body it takes).</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>How long one live log stream may stay open.</summary>
    public TimeSpan StreamMaxDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many live log streams may be open at once.</summary>
    public int MaxStreams { get; set; } = 100;

    public IEnumerable<string> Validate()
    {
        if (StreamMaxDuration <= TimeSpan.Zero)
        {
            yield return $"{Section}:{nameof(StreamMaxDuration)} must be positive (got {StreamMaxDuration}).";
        }

        if (MaxStreams < 1)
        {
            yield return $"{Section}:{nameof(MaxStreams)} must be at least 1 (got {MaxStreams}).";
        }

        if (SqlMaxRows is < 1 or > 1_000_000)
        {
            yield return $"{Section}:{nameof(SqlMaxRows)} must be between 1 and 1000000 (got {SqlMaxRows}).";
        }

        if (SqlTimeout <= TimeSpan.Zero || SqlTimeout > TimeSpan.FromMinutes(10))
        {
            yield return $"{Section}:{nameof(SqlTimeout)} must be between 00:00:00 and 00:10:00 (got {SqlTimeout}).";
        }

        if (SqlMaxBytes is < 1024 or > 1024 * 1024 * 1024)
        {
            yield return $"{Section}:{nameof(SqlMaxBytes)} must be between 1024 and 1073741824 (got {SqlMaxBytes}).";
        }

        if (MaxConcurrentSql is < 1 or > 64)
        {
            yield return $"{Section}:{nameof(MaxConcurrentSql)} must be between 1 and 64 (got {MaxConcurrentSql}).";
        }

        if (MaxConcurrentExports is < 1 or > 64)
        {
            yield return $"{Section}:{nameof(MaxConcurrentExports)} must be between 1 and 64 (got {MaxConcurrentExports}).";
        }

        if (MaxConcurrentHeavy is < 1 or > 128)
        {
            yield return $"{Section}:{nameof(MaxConcurrentHeavy)} must be between 1 and 128 (got {MaxConcurrentHeavy}).";
        }

        if (QueueTimeout < TimeSpan.Zero || QueueTimeout > TimeSpan.FromMinutes(1))
        {
            yield return $"{Section}:{nameof(QueueTimeout)} must be between 00:00:00 and 00:01:00 (got {QueueTimeout}).";
        }

        if (ExportTimeout < TimeSpan.FromSeconds(1) || ExportTimeout > TimeSpan.FromHours(6))
        {
            yield return $"{Section}:{nameof(ExportTimeout)} must be between 00:00:01 and 06:00:00 (got {ExportTimeout}).";
        }

        if (BackupTimeout < TimeSpan.FromSeconds(1) || BackupTimeout > TimeSpan.FromDays(1))
        {
            yield return $"{Section}:{nameof(BackupTimeout)} must be between 00:00:01 and 1.00:00:00 (got {BackupTimeout}).";
        }

        if (QueryTimeout < TimeSpan.FromSeconds(1) || QueryTimeout > TimeSpan.FromMinutes(10))
        {
            yield return $"{Section}:{nameof(QueryTimeout)} must be between 00:00:01 and 00:10:00 (got {QueryTimeout}).";
        }

        if (ExportFolderMaxBytes < 1024)
        {
            yield return $"{Section}:{nameof(ExportFolderMaxBytes)} must be at least 1024 (got {ExportFolderMaxBytes}).";
        }

        if (MaxRequestBodyBytes is < 1024 or > 64 * 1024 * 1024)
        {
            yield return $"{Section}:{nameof(MaxRequestBodyBytes)} must be between 1024 and 67108864 (got {MaxRequestBodyBytes}).";
        }

        if (!Ingest.ReceiverOptions.IsEndpoint(Endpoint))
        {
            yield return $"{Section}:{nameof(Endpoint)} must be an IP address and port such as 127.0.0.1:8080 (got '{Endpoint}').";
        }

        if (MaxPageSize is < 1 or > 100_000)
        {
            yield return $"{Section}:{nameof(MaxPageSize)} must be between 1 and 100000 (got {MaxPageSize}).";
        }

        foreach (var error in Tls.Validate())
        {
            yield return error;
        }
    }

    /// <summary>The API listener's PEM files.</summary>
    internal ListenerPem Tls => new($"{Section}:{nameof(Certificate)}", Certificate, $"{Section}:{nameof(CertificateKey)}", CertificateKey);
}
