using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Pipeline.Diagnostics;

namespace Pipeline.Security;

/// <summary>
/// Rotation without a restart: reads <c>Security:TokensFile</c> every <c>Security:TokensFileCheckInterval</c> and,
/// when its content changed, swaps the accepted tokens whole. The content is compared, not the file's time, so a
/// file replaced by rename or through a symbolic link (a mounted secret) is seen as well. A file that cannot be read
/// or parsed keeps the previous tokens, with a warning once per content.
/// </summary>
internal sealed partial class TokenFileWatch(Tokens tokens, IOptions<SecurityOptions> options, PipelineMetrics metrics, ILogger<TokenFileWatch> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var path = options.Value.TokensFile;
        if (path.Length == 0)
        {
            return;
        }

        var seen = Content(path);
        using var timer = new PeriodicTimer(options.Value.TokensFileCheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var now = Content(path);
                if (now.AsSpan().SequenceEqual(seen))
                {
                    continue;
                }

                seen = now;
                try
                {
                    var file = TokenFile.Read(path);
                    tokens.Replace(file.Grants);
                    metrics.TokensReloaded("ok");
                    LogReloaded(logger, path, file.Grants.Count);
                }
                catch (FormatException ex)
                {
                    metrics.TokensReloaded("failed");
                    LogKept(logger, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>A digest of the file's bytes; an unreadable file has its own (empty) one, so reading again is tried.</summary>
    private static byte[] Content(string path)
    {
        try
        {
            return SHA256.HashData(File.ReadAllBytes(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Tokens file {Path} read again: {Count} tokens accepted from it now")]
    private static partial void LogReloaded(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Tokens file changed but was not taken; the previous tokens stay: {Reason}")]
    private static partial void LogKept(ILogger logger, string reason);
}
