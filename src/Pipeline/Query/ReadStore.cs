using System.Data.Common;
using DuckDB.NET.Data;
using Microsoft.Extensions.Options;
using Pipeline.Api;
using Pipeline.Storage;

namespace Pipeline.Query;

/// <summary>
/// Where the query side's connections go: the store's file (next to the writer), or, in lake mode, the in-memory
/// database of the lake's views (<see cref="Lake.LakeCatalog"/>). <paramref name="connect"/> gives a connection not
/// yet open.
/// </summary>
internal sealed class ReadDatabase(Func<DuckDBConnection> connect)
{
    public DuckDBConnection Connect() => connect();

    /// <summary>The store's file, as the writer opens it.</summary>
    public static ReadDatabase Store(IServiceProvider services)
    {
        var connectionString = services.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionString();
        return new ReadDatabase(() => new DuckDBConnection(connectionString));
    }
}

/// <summary>
/// Read access to the database: a short-lived connection per query, next to the writer's. DuckDB's MVCC lets reads
/// run while ingest goes on; each query sees the data committed when it starts. Lists, summaries and records are
/// stopped at <see cref="ApiOptions.QueryTimeout"/>.
/// </summary>
internal sealed class ReadStore(ReadDatabase database, IOptions<ApiOptions> api, StoreGate gate)
{
    private readonly TimeSpan _timeout = api.Value.QueryTimeout;

    /// <summary>
    /// A connection of its own, through the <see cref="StoreGate"/>: <paramref name="interrupt"/> fires when the writer
    /// needs every reader gone, or, for a <paramref name="heavy"/> one (SQL, exports), the memory it holds; interrupt
    /// the query then. Disposing the connection lets the writer go on.
    /// </summary>
    public DuckDBConnection Open(bool heavy, out CancellationToken interrupt)
    {
        if (!gate.TryEnter(heavy, out interrupt))
        {
            throw new StoreRestartingException("storage is being opened afresh after a failed commit; ask again in a moment");
        }

        DuckDBConnection connection;
        try
        {
            connection = database.Connect();
        }
        catch
        {
            gate.Exit(heavy);
            throw;
        }

        connection.Disposed += (_, _) => gate.Exit(heavy);
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Runs a query within <see cref="ApiOptions.QueryTimeout"/> and maps its rows.</summary>
    public Task<List<T>> ListAsync<T>(string sql, IEnumerable<DuckDBParameter> parameters, Func<DbDataReader, T> map, CancellationToken cancellationToken) =>
        Deadline.RunAsync(token => QueryAsync(sql, parameters, map, token), _timeout, "the query", null, cancellationToken);

    /// <summary>A heavy query (an export's COPY) on the caller's thread: also interrupted when the writer needs its memory.</summary>
    public Task<List<T>> QueryHeavyAsync<T>(string sql, IEnumerable<DuckDBParameter> parameters, Func<DbDataReader, T> map, CancellationToken cancellationToken) =>
        QueryAsync(sql, parameters, map, cancellationToken, heavy: true);

    /// <summary>Runs a query on the caller's thread, interrupted when <paramref name="cancellationToken"/> fires.</summary>
    public async Task<List<T>> QueryAsync<T>(string sql, IEnumerable<DuckDBParameter> parameters, Func<DbDataReader, T> map, CancellationToken cancellationToken, bool heavy = false)
    {
        using var connection = Open(heavy, out var closing);
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closing);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new DuckDBParameter(parameter.ParameterName, parameter.Value));
        }

        using var registration = interrupt.Token.Register(command.Cancel);
        using var reader = await command.ExecuteReaderAsync(interrupt.Token).ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(interrupt.Token).ConfigureAwait(false))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>Null when a query answers; otherwise why not.</summary>
    public async Task<string?> ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ListAsync("SELECT 1", [], r => r.GetInt32(0), cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (DuckDBException ex)
        {
            return $"storage does not answer queries: {StorageFailure.Describe(ex)}";
        }
        catch (StoreRestartingException ex)
        {
            return ex.Message;
        }
        catch (QueryTimeoutException)
        {
            return $"storage did not answer a query within {_timeout.TotalSeconds:0.#} s";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "storage is being opened afresh after a failed commit";
        }
    }

    public static DateTime Utc(DbDataReader reader, int ordinal) => DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc);

    public static DateTime? UtcOrNull(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : Utc(reader, ordinal);

    /// <summary>A list of two numbers (such as <c>quantile_cont(x, [0.9, 0.99])</c>), or two nulls when the list is.</summary>
    public static (double? First, double? Second) Pair(DbDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal) || reader.GetValue(ordinal) is not System.Collections.IList { Count: 2 } list)
        {
            return (null, null);
        }

        static double? Of(object? value) => value is null ? null : Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
        return (Of(list[0]), Of(list[1]));
    }

    public static string? Text(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static double? Number(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : Convert.ToDouble(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);

    public static int? Integer(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : Convert.ToInt32(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);
}
