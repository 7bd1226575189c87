using System.Globalization;
using Microsoft.AspNetCore.Mvc;

namespace Pipeline.Query;

/// <summary>The query string every list, summary, trend and export takes, as sent.</summary>
/// <param name="Script">The script to look at (required).</param>
/// <param name="From">ISO-8601 instant; default: 7 days before <paramref name="To"/>.</param>
/// <param name="To">ISO-8601 instant; default: now.</param>
/// <param name="Filter">URL-encoded JSON: {"op":"and"|"or","conditions":[{"column","operator","values":[...]}]}.</param>
/// <param name="Q">Free-text search.</param>
/// <param name="Limit">Page size, 1 to Api:MaxPageSize (default 50).</param>
/// <param name="Cursor">The nextCursor of the previous page.</param>
/// <param name="Sort">field:asc or field:desc; default executedOn:desc (runs) or timestamp:desc (logs).</param>
/// <param name="RunId">Logs only: the logs of one run.</param>
public sealed record ListParameters(
    [property: FromQuery(Name = "script")] string? Script,
    [property: FromQuery(Name = "from")] string? From,
    [property: FromQuery(Name = "to")] string? To,
    [property: FromQuery(Name = "filter")] string? Filter,
    [property: FromQuery(Name = "q")] string? Q,
    [property: FromQuery(Name = "limit")] string? Limit,
    [property: FromQuery(Name = "cursor")] string? Cursor,
    [property: FromQuery(Name = "sort")] string? Sort,
    [property: FromQuery(Name = "runId")] string? RunId);

/// <summary>A list's order: one column, then the key in the same direction.</summary>
internal sealed record Sort(Column Column, bool Descending);

/// <summary>
/// The parameters every list, summary, trend and export takes, parsed and validated (pure: the clock comes in).
/// <c>from</c>/<c>to</c> default to the last 7 days, as the seed's page does; <paramref name="DefaultPeriod"/> says
/// neither was given.
/// </summary>
internal sealed record ListRequest(string Script, DateTime From, DateTime To, Filter? Filter, string? Search, int Limit, Sort Sort, Cursor? After, string? RunId, bool DefaultPeriod = false)
{
    public const int DefaultLimit = 50;

    public static ListRequest Parse(ListParameters parameters, ColumnSet columns, DateTime now, int maxLimit)
    {
        string? query(string name) => name switch
        {
            "script" => parameters.Script,
            "from" => parameters.From,
            "to" => parameters.To,
            "filter" => parameters.Filter,
            "q" => parameters.Q,
            "limit" => parameters.Limit,
            "cursor" => parameters.Cursor,
            "sort" => parameters.Sort,
            _ => parameters.RunId,
        };

        var script = query("script");
        if (string.IsNullOrWhiteSpace(script))
        {
            throw new QueryException("script is required: name the script to look at (see /api/scripts)");
        }

        var defaultPeriod = string.IsNullOrEmpty(query("from")) && string.IsNullOrEmpty(query("to"));
        var to = Instant(query("to"), "to") ?? now;
        var from = Instant(query("from"), "from") ?? (to.Year > 1 ? to.AddDays(-7) : throw new QueryException($"to ({to:O}) leaves no room for the default week; give from"));
        if (from >= to)
        {
            throw new QueryException($"from ({from:O}) must be before to ({to:O})");
        }

        var limit = DefaultLimit;
        if (query("limit") is { } limitText && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > maxLimit))
        {
            throw new QueryException($"limit must be a whole number from 1 to {maxLimit} (got '{limitText}')");
        }

        var sort = ParseSort(query("sort"), columns);
        var filter = query("filter") is { Length: > 0 } filterText ? Filter.Parse(filterText, columns) : null;
        var cursor = query("cursor") is { Length: > 0 } cursorText ? Cursor.Decode(cursorText, sort.Column, columns) : null;
        var search = query("q") is { Length: > 0 } q ? q : null;
        var runId = query("runId") is { Length: > 0 } run ? run : null;
        return new ListRequest(script, from, to, filter, search, limit, sort, cursor, runId, defaultPeriod);
    }

    private static Sort ParseSort(string? text, ColumnSet columns)
    {
        if (string.IsNullOrEmpty(text))
        {
            return new Sort(columns.Time, Descending: true);
        }

        var parts = text.Split(':');
        var column = columns.Find(parts[0]) is { Sortable: true } found ? found
            : throw new QueryException($"cannot sort by {(columns.Find(parts[0]) is null ? "unknown" : "the")} {columns.Noun} column '{parts[0]}'; sortable: {columns.SortableNames}");
        var direction = parts.Length > 1 ? parts[1] : "asc";
        return parts.Length > 2 || direction is not ("asc" or "desc")
            ? throw new QueryException($"sort must be field:asc or field:desc (got '{text}')")
            : new Sort(column, direction == "desc");
    }

    private static DateTime? Instant(string? text, string name)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant)
            ? instant.UtcDateTime
            : throw new QueryException($"{name} must be an ISO-8601 instant such as 2025-05-14T06:07:27Z (got '{text}')");
    }
}
