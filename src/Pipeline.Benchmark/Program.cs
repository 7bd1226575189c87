using System.Globalization;
using Pipeline.Benchmark;

// Benchmarks, not tests: they print figures. Arguments that start with -- go to the daemon (e.g. --Storage:Threads=4).
// Usage: dotnet run -c Release --project src/Pipeline.Benchmark -- <mode> ...
//   ingest logsonly|runheavy [spans=200000] [perRequest=512] [clients=8] [rounds=3]   end to end against a bare appender
//   [spans] [perRequest] [clients] [rounds]                                           the same, logs-only
//   soak [minutes=10] [clients=8] [perRequest=512]                                    run-heavy, a line a minute
//   queries [runs=1000000] [logsPerRun=10] [repeats=30]                               the console's questions, p50/p95
//   contention [preloadRuns=200000] [phaseSeconds=60] [clients=8] [exports=10] [sql=10]  ingest alone, under exports + SQL, alone
//   publish [spans=300000] [perRequest=512] [clients=8] [rounds=3]                    run-heavy ingest, lake off vs on; publish rows/s
//   forward [spans=200000] [perRequest=512] [clients=8]                              ingest with forwarding vs without; forwarding throughput
//   lake [logs=1000000,5000000] [repeats=20] [--Storage:MemoryLimit=...]              lake mode against a store of the same rows, p50/p95
string[] words = [.. args.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal))];
string[] daemonArgs = args[words.Length..];
switch (words)
{
    case ["queries", ..]:
        return await QueryBench.RunAsync(Number(1, 1_000_000), Number(2, 10), Number(3, 30));
    case ["lake", ..]:
        return await LakeBench.RunAsync(
            [.. (words.Length > 1 ? words[1] : "1000000,5000000").Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture))], Number(2, 20), daemonArgs);
    case ["contention", ..]:
        return await Contention.RunAsync(Number(1, 200_000), Number(2, 60), Number(3, 8), Number(4, 10), Number(5, 10), daemonArgs);
    case ["publish", ..]:
        return await PublishBench.RunAsync(Number(1, 300_000), Number(2, 512), Number(3, 8), Number(4, 3), daemonArgs);
    case ["forward", ..]:
        return await ForwardBench.RunAsync(Number(1, 200_000), Number(2, 512), Number(3, 8), daemonArgs);
    case ["soak", ..]:
        return await Soak.RunAsync(Number(1, 10), Number(2, 8), Number(3, 512), daemonArgs);
    case ["ingest", var shape, ..] when IngestBench.Shapes.Contains(shape):
        return await IngestBench.RunAsync(shape, Number(2, 200_000), Number(3, 512), Number(4, 8), Number(5, 3), daemonArgs);
    case [] or [[>= '0' and <= '9', ..], ..]:
        return await IngestBench.RunAsync("logsonly", Number(0, 200_000), Number(1, 512), Number(2, 8), Number(3, 3), daemonArgs);
    default:
        await Console.Error.WriteLineAsync($"unknown arguments: {string.Join(' ', args)}; see the usage at the top of src/Pipeline.Benchmark/Program.cs "
            + $"(modes: ingest {string.Join('|', IngestBench.Shapes)}, soak, queries, contention, publish, forward, lake)");
        return 2;
}

int Number(int index, int fallback) =>
    words.Length > index ? int.Parse(words[index], CultureInfo.InvariantCulture) : fallback;
