using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Threading.Channels;

namespace Pipeline.Benchmark;

/// <summary>
/// Ingest against the query side: one daemon, a preloaded store, and the run-heavy shape sent without pause by
/// concurrent clients through three phases of equal length: alone, while export clients and heavy-SQL clients (10 and
/// 10 by default) ask without pause (each honouring 429 and Retry-After), and alone again. The figure is the middle phase's rate as
/// a ratio to the mean of the two alone phases, in the same run. The data folder is sampled throughout, split into
/// the store (database and write-ahead log), DuckDB's spill folder and the export folder, against their caps.
/// </summary>
internal static class Contention
{
    private static readonly string[] HeavySql =
    [
        "SELECT level, count(*) AS n, count(DISTINCT message) AS messages FROM logs GROUP BY level",
        "SELECT script, quantile_cont(response_time_ms, 0.9) AS p90, quantile_cont(response_time_ms, 0.99) AS p99 FROM runs GROUP BY script",
        "SELECT run_id, string_agg(message, ',') AS text FROM logs GROUP BY run_id ORDER BY length(text) DESC LIMIT 10",
        "SELECT r.script, count(*) AS n FROM runs r JOIN logs l ON l.script = r.script AND l.run_id = r.run_id WHERE l.message LIKE '%7%' GROUP BY r.script",
        "SELECT message, count(*) AS n FROM logs GROUP BY message ORDER BY n DESC LIMIT 20",
    ];

    public static async Task<int> RunAsync(int preloadRuns, int phaseSeconds, int clients, int exportClients, int sqlClients, string[] daemonArgs)
    {
        var folder = Path.Combine(Path.GetTempPath(), "pipeline-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "contention.duckdb");
        var load = new RunHeavyLoad(512);
        Console.WriteLine($"contention: preload {preloadRuns:N0} runs, phases of {phaseSeconds} s, {clients} ingest clients, "
            + $"{exportClients} export and {sqlClients} SQL clients, cores={Environment.ProcessorCount}, daemon args: {string.Join(' ', daemonArgs)}");

        using var daemon = DaemonProcess.Start(path, daemonArgs);
        using var exporter = new TraceExporter(daemon.GrpcPort);
        await exporter.WaitForDaemonAsync();
        using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{daemon.ApiPort}"), Timeout = TimeSpan.FromMinutes(10) };

        using var stop = new CancellationTokenSource();
        var queue = Channel.CreateBounded<LoadRequest>(new BoundedChannelOptions(clients * 2) { SingleWriter = true });
        var generator = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await queue.Writer.WriteAsync(load.Next(), stop.Token);
            }
        });
        var (ackedLogs, ackedRuns) = (0L, 0L);
        var senders = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            try
            {
                await foreach (var request in queue.Reader.ReadAllAsync(stop.Token))
                {
                    await exporter.ExportAsync(request.Bytes);
                    Interlocked.Add(ref ackedLogs, request.Logs);
                    Interlocked.Add(ref ackedRuns, request.Runs);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Over.
            }
        })).ToList();

        var preload = Stopwatch.StartNew();
        while (Interlocked.Read(ref ackedRuns) < preloadRuns)
        {
            await Task.Delay(200);
        }

        Console.WriteLine($"preloaded {Interlocked.Read(ref ackedRuns):N0} runs, {Interlocked.Read(ref ackedLogs):N0} logs in {preload.Elapsed.TotalSeconds:N0} s; "
            + $"store {MiB(StoreBytes(path)):N0} MiB");

        var folders = new FolderSampler(path);
        var alone1 = await PhaseAsync("alone", phaseSeconds, () => Interlocked.Read(ref ackedLogs), folders);
        var queries = new QueryLoad(api);
        using var heavy = new CancellationTokenSource();
        var workers = Enumerable.Range(0, exportClients).Select(i => queries.ExportLoopAsync(i, heavy.Token))
            .Concat(Enumerable.Range(0, sqlClients).Select(i => queries.SqlLoopAsync(i, heavy.Token))).ToList();
        var contended = await PhaseAsync($"with {exportClients} exports + {sqlClients} SQL", phaseSeconds, () => Interlocked.Read(ref ackedLogs), folders);
        await heavy.CancelAsync();
        await Task.WhenAll(workers);
        var alone2 = await PhaseAsync("alone again", phaseSeconds, () => Interlocked.Read(ref ackedLogs), folders);

        await stop.CancelAsync();
        await Task.WhenAll(senders.Append(generator).Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        var acknowledged = new RowCounts(ackedLogs, ackedRuns);
        await daemon.StopAsync();
        var stored = RowCounts.InFile(path);

        var baseline = (alone1 + alone2) / 2;
        Console.WriteLine();
        Console.WriteLine($"ingest while {exportClients} exports + {sqlClients} heavy SQL ran: {contended:N0} log rows/s = {contended / baseline:P0} of alone ({alone1:N0} before, {alone2:N0} after)");
        Console.WriteLine($"exports   : {queries.Exports.Done:N0} done ({MiB(queries.Exports.Bytes):N0} MiB), {queries.Exports.Busy:N0} answered 429 or 503, {queries.Exports.Failed:N0} other refusals{queries.Exports.FirstFailure}");
        Console.WriteLine($"SQL       : {queries.Sql.Done:N0} done, {queries.Sql.Busy:N0} answered 429 or 503, {queries.Sql.Failed:N0} other refusals (timeouts among them){queries.Sql.FirstFailure}");
        Console.WriteLine($"data folder: max {MiB(folders.MaxTotal):N0} MiB; beside the store at most {MiB(folders.MaxSpill):N0} MiB spilled and {MiB(folders.MaxExports):N0} MiB of exports "
            + $"at once (caps: Storage:MaxTempBytes, Api:ExportFolderMaxBytes); store at the end {MiB(StoreBytes(path)):N0} MiB");
        Console.WriteLine($"ingest    : {exporter.Refusals:N0} exports refused and retried; rejected spans {exporter.RejectedSpans:N0}");
        Console.WriteLine($"stored    : {stored.Against(acknowledged, "acknowledged")}");
        var said = (await daemon.Output).Split('\n');
        var complaints = said.Select((line, i) => (line, i)).Where(x => x.line.StartsWith("fail:", StringComparison.Ordinal) || x.line.StartsWith("warn:", StringComparison.Ordinal))
            .Select(x => $"{x.line.Trim()} {(x.i + 1 < said.Length ? said[x.i + 1].Trim() : string.Empty)} {(x.i + 2 < said.Length ? said[x.i + 2].Trim() : string.Empty)}").ToList();
        Console.WriteLine($"the daemon complained {complaints.Count} times{(complaints.Count > 0 ? ", first ones:" : string.Empty)}");
        foreach (var complaint in complaints.Take(6))
        {
            Console.WriteLine($"  {complaint[..Math.Min(complaint.Length, 400)]}");
        }

        if (stored != acknowledged)
        {
            Console.WriteLine($"in the file: {RowCounts.ExplainExtraLogs(path)}; kept at {path}");
            return 1;
        }

        Directory.Delete(folder, recursive: true);
        return stored == acknowledged ? 0 : 1;
    }

    /// <summary>Acknowledged log rows per second over one phase, sampling the folder as it goes.</summary>
    private static async Task<double> PhaseAsync(string name, int seconds, Func<long> acked, FolderSampler folders)
    {
        var before = acked();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            await Task.Delay(250);
            folders.Sample();
        }

        var rate = (acked() - before) / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"{name,-26}: {rate,9:N0} log rows/s");
        return rate;
    }

    private static long StoreBytes(string path) => Size(path) + Size(path + ".wal");

    private static long Size(string file) => File.Exists(file) ? new FileInfo(file).Length : 0;

    private static double MiB(long bytes) => bytes / 1048576.0;

    /// <summary>The largest sizes seen of the whole folder, the spill folder and the export folder.</summary>
    private sealed class FolderSampler(string path)
    {
        private readonly string _folder = Path.GetDirectoryName(path)!;

        public long MaxTotal { get; private set; }

        public long MaxSpill { get; private set; }

        public long MaxExports { get; private set; }

        public void Sample()
        {
            MaxTotal = Math.Max(MaxTotal, DaemonProcess.FolderBytes(_folder));
            MaxSpill = Math.Max(MaxSpill, DaemonProcess.FolderBytes(path + ".tmp"));
            MaxExports = Math.Max(MaxExports, DaemonProcess.FolderBytes(Path.Combine(_folder, "exports")));
        }
    }

    /// <summary>What one kind of heavy client got.</summary>
    private sealed class Tally
    {
        private long _done;
        private long _busy;
        private long _failed;
        private long _bytes;

        public long Done => Interlocked.Read(ref _done);

        public long Busy => Interlocked.Read(ref _busy);

        public long Failed => Interlocked.Read(ref _failed);

        public long Bytes => Interlocked.Read(ref _bytes);

        public string FirstFailure { get; private set; } = string.Empty;

        public void Succeeded(long bytes)
        {
            Interlocked.Increment(ref _done);
            Interlocked.Add(ref _bytes, bytes);
        }

        public void WasBusy() => Interlocked.Increment(ref _busy);

        public void Refused(string why)
        {
            if (Interlocked.Increment(ref _failed) == 1)
            {
                FirstFailure = $" (first: {why})";
            }
        }
    }

    /// <summary>Export and SQL clients that ask without pause, as the hostile client did, honouring 429 and Retry-After.</summary>
    private sealed class QueryLoad(HttpClient api)
    {
        public Tally Exports { get; } = new();

        public Tally Sql { get; } = new();

        public async Task ExportLoopAsync(int client, CancellationToken stop)
        {
            var scripts = new[] { "bench-orders", "bench-leads", "bench-chat", "bench-report" };
            var (from, to) = (DateTime.UtcNow.AddDays(-1).ToString("O"), DateTime.UtcNow.AddDays(1).ToString("O"));
            for (var i = client; !stop.IsCancellationRequested; i++)
            {
                var list = i % 2 == 0 ? "logs" : "runs";
                var format = i % 3 == 0 ? "parquet" : "csv";
                var url = $"/api/{list}/export?script={scripts[i % scripts.Length]}&from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(to)}&format={format}";
                await AskAsync(() => api.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, stop), Exports, response => CountAsync(response, stop), stop);
            }
        }

        public async Task SqlLoopAsync(int client, CancellationToken stop)
        {
            for (var i = client; !stop.IsCancellationRequested; i++)
            {
                var sql = HeavySql[i % HeavySql.Length];
                await AskAsync(() => api.PostAsJsonAsync("/api/sql", new { sql }, stop), Sql, response => CountAsync(response, stop), stop);
            }
        }

        private static async Task AskAsync(Func<Task<HttpResponseMessage>> ask, Tally tally, Func<HttpResponseMessage, Task<long>> read, CancellationToken stop)
        {
            try
            {
                using var response = await ask();
                if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
                {
                    tally.WasBusy();
                    await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), stop);
                    return;
                }

                if (!response.IsSuccessStatusCode)
                {
                    tally.Refused($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(stop)}");
                    return;
                }

                tally.Succeeded(await read(response));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The phase is over.
            }
        }

        private static async Task<long> CountAsync(HttpResponseMessage response, CancellationToken stop)
        {
            await using var body = await response.Content.ReadAsStreamAsync(stop);
            var buffer = new byte[81_920];
            var total = 0L;
            int read;
            while ((read = await body.ReadAsync(buffer, stop)) > 0)
            {
                total += read;
            }

            return total;
        }
    }
}
