using DuckDB.NET.Data;
using DuckDB.NET.Native;

namespace Pipeline.Storage;

/// <summary>What a failed commit says about the store.</summary>
internal enum StorageFailureKind
{
    /// <summary>Something in the rows (a value DuckDB refuses): the same rows fail again, other rows would not.</summary>
    Rows,

    /// <summary>The store itself (disk full, I/O error, corrupt block, out of memory), or a cause not known to be the rows'.</summary>
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

        // DuckDB does not always set the type (an I/O error of a scan comes typed Invalid); its message says the kind.
        DuckDBException e when StoreMessages.Any(m => e.Message.StartsWith(m, StringComparison.Ordinal)) => StorageFailureKind.Store,

        // Only what a value can cause is the rows' fault; anything else is the store's, and retryable: a permanent
        // refusal drops the client's data, so it needs certainty.
        DuckDBException
        {
            ErrorType: DuckDBErrorType.Conversion or DuckDBErrorType.Constraint or DuckDBErrorType.OutOfRange or DuckDBErrorType.MismatchType
                or DuckDBErrorType.InvalidType or DuckDBErrorType.DivideByZero or DuckDBErrorType.Decimal or DuckDBErrorType.InvalidInput,
        } => StorageFailureKind.Rows,
        ArgumentException or FormatException or OverflowException or InvalidCastException => StorageFailureKind.Rows,
        _ => StorageFailureKind.Store,
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
