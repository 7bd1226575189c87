namespace Pipeline.Query;

/// <summary>A request the query API refuses; the message names what was wrong (answered as 400).</summary>
internal sealed class QueryException(string message) : Exception(message);
