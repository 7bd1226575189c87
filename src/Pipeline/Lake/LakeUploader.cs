using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;
using Pipeline.Query;

namespace Pipeline.Lake;

/// <summary>
/// Sends published lake files to the S3-compatible store of <see cref="LakeS3Options"/>, oldest first, under the same
/// relative path (after <see cref="LakeS3Options.Prefix"/>), and removes each local copy once the store has it. Each
/// upload is tried <see cref="LakeS3Options.MaxAttempts"/> times, waiting longer each time (the SDK retries within an
/// attempt too); a file that still fails stops the round and is tried again at the next pass, so files reach the
/// store in order. The local file is removed before the ledger says uploaded: a file the ledger still lists but the
/// folder no longer holds was uploaded (nothing else removes it), and is marked so.
/// </summary>
internal sealed partial class LakeUploader : IDisposable
{
    private const int BatchFiles = 500;

    private readonly LakeS3Options _options;
    private readonly string _lake;
    private readonly ReadStore _store;
    private readonly LakeMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly ILogger<LakeUploader> _logger;
    private readonly AmazonS3Client? _client;

    public LakeUploader(IOptions<LakeOptions> options, ReadStore store, LakeMetrics metrics, TimeProvider clock, ILogger<LakeUploader> logger)
    {
        _options = options.Value.S3;
        _lake = options.Value.Publishes ? Path.GetFullPath(options.Value.Path) : "";
        _store = store;
        _metrics = metrics;
        _clock = clock;
        _logger = logger;
        _client = _options.Uploads ? Client(_options) : null;
    }

    public bool Enabled => _client is not null;

    /// <summary>The object key of a file at <paramref name="relativePath"/> in the lake.</summary>
    public static string Key(LakeS3Options options, string relativePath) => options.Prefix.Length == 0 ? relativePath : $"{options.Prefix}/{relativePath}";

    /// <summary>Uploads what waits, oldest first; returns how many files went.</summary>
    public async Task<int> UploadAsync(CancellationToken cancellationToken)
    {
        List<string> waiting;
        using (var connection = _store.Open(heavy: false, out _))
        {
            waiting = LakeLedger.ToUpload(connection, BatchFiles);
        }

        var uploaded = 0;
        foreach (var relative in waiting)
        {
            var local = Path.Combine(_lake, relative);
            if (File.Exists(local))
            {
                if (!await PutAsync(local, Key(_options, relative), cancellationToken).ConfigureAwait(false))
                {
                    break;
                }

                File.Delete(local);
                RemoveEmptyFolders(Path.GetDirectoryName(local)!);
                uploaded++;
                _metrics.Uploaded();
            }

            using var connection = _store.Open(heavy: false, out _);
            LakeLedger.Uploaded(connection, relative, _clock.GetUtcNow().UtcDateTime);
        }

        if (uploaded > 0)
        {
            LogUploaded(_logger, uploaded, _options.Bucket);
        }

        return uploaded;
    }

    public void Dispose() => _client?.Dispose();

    private async Task<bool> PutAsync(string local, string key, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _client!.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = _options.Bucket,
                    Key = key,
                    FilePath = local,
                    ContentType = "application/vnd.apache.parquet",
                    UseChunkEncoding = false,
                }, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
            {
                _metrics.Failed("upload");
                if (attempt >= _options.MaxAttempts)
                {
                    LogUploadFailed(_logger, key, attempt, ex.Message);
                    return false;
                }

                var wait = TimeSpan.FromMilliseconds(Math.Min(30_000, 500 * Math.Pow(2, attempt - 1)));
                await Task.Delay(wait, _clock, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Removes the date and script folders an upload left empty, not the lake's table folders.</summary>
    private void RemoveEmptyFolders(string folder)
    {
        for (var level = 0; level < 2 && folder.Length > _lake.Length && !Directory.EnumerateFileSystemEntries(folder).Any(); level++)
        {
            try
            {
                Directory.Delete(folder);
            }
            catch (IOException)
            {
                return; // A pass wrote a file into it meanwhile.
            }

            folder = Path.GetDirectoryName(folder)!;
        }
    }

    private static AmazonS3Client Client(LakeS3Options options)
    {
        var config = new AmazonS3Config
        {
            // Standard retries within each attempt; checksums only where S3 requires them, which S3-compatible stores all take.
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = 3,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.Endpoint.Length > 0)
        {
            config.ServiceURL = options.Endpoint;
            config.ForcePathStyle = true;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        // Credentials: the SDK's chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN first).
        return new AmazonS3Client(config);
    }

    [LoggerMessage(EventId = 810, Level = LogLevel.Information, Message = "Uploaded {Files} lake files to bucket {Bucket} and removed them locally")]
    private static partial void LogUploaded(ILogger logger, int files, string bucket);

    [LoggerMessage(EventId = 811, Level = LogLevel.Warning, Message = "Uploading {Key} failed {Attempts} times, tried again at the next pass: {Reason}")]
    private static partial void LogUploadFailed(ILogger logger, string key, int attempts, string reason);
}
