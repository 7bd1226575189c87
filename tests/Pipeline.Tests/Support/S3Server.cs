using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;

namespace Pipeline.Tests.Support;

/// <summary>
/// A real S3-compatible server on loopback: the npm package s3rver (installed by .ci/run), with one bucket, its
/// objects in a folder of its own. It takes any well-formed signature; <see cref="AccessKey"/> is what clients sign with.
/// </summary>
internal sealed class S3Server : IDisposable
{
    public const string AccessKey = "S3RVER";

    private readonly Process _process;

    private S3Server(Process process, int port, string bucket)
    {
        _process = process;
        Endpoint = $"http://127.0.0.1:{port}";
        Bucket = bucket;
    }

    public string Endpoint { get; }

    public string Bucket { get; }

    /// <summary>Starts s3rver on <paramref name="port"/> (a free one when 0) and waits until it takes connections.</summary>
    public static async Task<S3Server> StartAsync(string bucket, int port = 0)
    {
        port = port == 0 ? FreePort() : port;
        var folder = new TempFolder();
        var start = new ProcessStartInfo("s3rver")
        {
            ArgumentList = { "--directory", folder.Path, "--address", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", "--configure-bucket", bucket },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception error)
        {
            throw new InvalidOperationException("s3rver is not on PATH: install it with 'npm install -g s3rver' (.ci/run does).", error);
        }

        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new S3Server(process, port, bucket);
        var deadline = DateTime.UtcNow + TestDaemon.Timeout;
        while (true)
        {
            try
            {
                using var client = server.Client();
                await client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = bucket });
                return server;
            }
            catch (Exception) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>A client of this server, signing with s3rver's key.</summary>
    public AmazonS3Client Client() => new(new BasicAWSCredentials(AccessKey, AccessKey), new AmazonS3Config
    {
        ServiceURL = Endpoint,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    /// <summary>Every key in the bucket, sorted.</summary>
    public async Task<List<string>> KeysAsync()
    {
        using var client = Client();
        var keys = new List<string>();
        var request = new Amazon.S3.Model.ListObjectsV2Request { BucketName = Bucket };
        while (true)
        {
            var page = await client.ListObjectsV2Async(request);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            if (page.IsTruncated != true)
            {
                return [.. keys.Order(StringComparer.Ordinal)];
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    /// <summary>Downloads an object to <paramref name="path"/>.</summary>
    public async Task DownloadAsync(string key, string path)
    {
        using var client = Client();
        using var response = await client.GetObjectAsync(Bucket, key);
        await using var file = File.Create(path);
        await response.ResponseStream.CopyToAsync(file);
    }

    public void Dispose()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
