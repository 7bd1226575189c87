using DuckDB.NET.Data;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Hosting;

namespace Pipeline.Tests.Support;

/// <summary>A real daemon: Kestrel on loopback port 0, a real DuckDB file in a temp folder that outlives restarts.</summary>
internal sealed class TestDaemon : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>A gRPC deadline <see cref="Timeout"/> from now: every call in a test has one.</summary>
    public static DateTime Deadline() => DateTime.UtcNow.Add(Timeout);

    private readonly WebApplication _app;

    private TestDaemon(WebApplication app, TempFolder folder, ListeningAddresses addresses)
    {
        _app = app;
        Folder = folder;
        GrpcAddress = addresses.Grpc;
        HttpAddress = addresses.Http;
        ApiAddress = addresses.Api;
        Grpc = GrpcChannel.ForAddress(GrpcAddress);
        Http = new HttpClient { BaseAddress = HttpAddress, Timeout = Timeout };
        Api = new HttpClient { BaseAddress = ApiAddress, Timeout = Timeout };
    }

    public TempFolder Folder { get; }

    public string DatabasePath => Path.Combine(Folder.Path, "pipeline.duckdb");

    public Uri GrpcAddress { get; }

    public Uri HttpAddress { get; }

    public Uri ApiAddress { get; }

    /// <summary>A client of the query API.</summary>
    public HttpClient Api { get; }

    public GrpcChannel Grpc { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Starts a daemon; <paramref name="logs"/>, when given, receives every line it logs at or above the levels its
    /// configuration keeps (<c>Logging:LogLevel:*</c> in <paramref name="settings"/>; Warning by default).
    /// </summary>
    public static async Task<TestDaemon> StartAsync(IDictionary<string, string?>? settings = null, TempFolder? folder = null, LogCapture? logs = null)
    {
        folder ??= new TempFolder();
        var all = new Dictionary<string, string?>
        {
            ["Receivers:GrpcEndpoint"] = "127.0.0.1:0",
            ["Receivers:HttpEndpoint"] = "127.0.0.1:0",
            ["Api:Endpoint"] = "127.0.0.1:0",
            ["Storage:Path"] = Path.Combine(folder.Path, "pipeline.duckdb"),
            ["Storage:MemoryLimit"] = "256MB",
            // The tests' records are stamped in 2025 (the seed's example): keep them, unless a test says otherwise.
            ["Retention:MaxAge"] = "3650.00:00:00",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var app = PipelineApp.Build([], config => config.AddInMemoryCollection(all));
        if (logs is not null)
        {
            app.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
        }

        await app.StartAsync().WaitAsync(Timeout);
        return new TestDaemon(app, folder, app.Addresses());
    }

    /// <summary>Stops the daemon (draining the channel) and starts a new one on the same database file.</summary>
    public async Task<TestDaemon> RestartAsync(IDictionary<string, string?>? settings = null)
    {
        await StopAsync();
        return await StartAsync(settings, Folder);
    }

    public async Task StopAsync()
    {
        await _app.StopAsync().WaitAsync(Timeout);
        await _app.DisposeAsync();
        Grpc.Dispose();
        Http.Dispose();
        Api.Dispose();
    }

    /// <summary>Reads the database through its own connection, as the query side will.</summary>
    public List<object?[]> Query(string sql) => Database.Query(DatabasePath, sql);

    public object? Scalar(string sql) => Query(sql).Single()[0];

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (ObjectDisposedException)
        {
            // Already stopped by the test.
        }
    }
}

/// <summary>Direct reads of a DuckDB file.</summary>
internal static class Database
{
    public static List<object?[]> Query(string path, string sql)
    {
        using var connection = new DuckDBConnection($"Data Source={path}");
        connection.Open();
        return Query(connection, sql);
    }

    /// <summary>Every row of <paramref name="sql"/> on an open connection, nulls as null.</summary>
    public static List<object?[]> Query(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }
}

/// <summary>A temp folder removed at the end of the test run's process (files may be held until the daemon stops).</summary>
internal sealed class TempFolder
{
    /// <summary>
    /// This test process's folder, removed when the process exits; those of test processes that are gone (killed
    /// before they could clean up) are removed when the next one starts.
    /// </summary>
    private static readonly string Root = CreateRoot();

    public TempFolder()
    {
        Path = System.IO.Path.Combine(Root, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    private static string CreateRoot()
    {
        var parent = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "pipeline-tests");
        Directory.CreateDirectory(parent);
        foreach (var folder in Directory.EnumerateDirectories(parent, "run-*"))
        {
            if (int.TryParse(System.IO.Path.GetFileName(folder)["run-".Length..], out var pid) && !Alive(pid))
            {
                TryDelete(folder);
            }
        }

        var root = System.IO.Path.Combine(parent, $"run-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return root;
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A file still held (a daemon process not yet gone): the next run removes the rest.
        }
    }
}
