using DuckDB.NET.Data;
using DuckDB.NET.Native;

namespace Pipeline.Storage;

/// <summary>What a failed commit says about the store.</summary>
internal enum StorageFailureKind
{
    /// <summary>Something in the rows: the same rows fail again, other rows would not.</summary>
    Rows,

    /// <summary>The store itself (disk full, I/O error, corrupt block, out of memory): every commit would fail now.</summary>
    Store,

    /// <summary>A fatal error: DuckDB has invalidated the database and takes no commit until it is opened again.</summary>
    Invalidated,
}

/// <summary>Sorts commit failures by DuckDB's own error type, so that one bad export and a broken store are told apart.</summary>
internal static class StorageFailure
{
    public static StorageFailureKind Classify(Exception error) => error switch
    {
        DuckDBException { ErrorType: DuckDBErrorType.Fatal } => StorageFailureKind.Invalidated,
        DuckDBException e when e.Message.Contains("database has been invalidated", StringComparison.OrdinalIgnoreCase) => StorageFailureKind.Invalidated,
        DuckDBException
        {
            ErrorType: DuckDBErrorType.Io or DuckDBErrorType.OutOfMemory or DuckDBErrorType.Internal or DuckDBErrorType.Connection
                or DuckDBErrorType.Interrupt or DuckDBErrorType.Transaction or DuckDBErrorType.Permission,
        } => StorageFailureKind.Store,
        // DuckDB does not always set the type (an I/O error of a scan comes typed Invalid); its message says the kind.
        DuckDBException e when StoreMessages.Any(m => e.Message.StartsWith(m, StringComparison.Ordinal)) => StorageFailureKind.Store,
        IOException or ObjectDisposedException or UnauthorizedAccessException => StorageFailureKind.Store,
        _ => StorageFailureKind.Rows,
    };

    private static readonly string[] StoreMessages =
        ["IO Error", "Out of Memory Error", "TransactionContext Error", "INTERNAL Error", "Failed to append: Could not write", "Failed to append: failed to allocate"];

    /// <summary>
    /// DuckDB's message on one line (an invalidated database names its original error on a second one), cut at 500
    /// characters: enough to name the cause in a refusal or on <c>/readyz</c>.
    /// </summary>
    public static string Describe(Exception error)
    {
        var message = string.Join(' ', error.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return message.Length <= 500 ? message : message[..500] + "…";
    }
}
