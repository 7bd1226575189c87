using System.Text;
using Pipeline.Query;

namespace Pipeline.Security;

/// <summary>
/// The scripts a token reaches: all of them, or those named exactly or by prefix (<c>billing-*</c>). Set on the
/// request by authentication; ingest refuses records of other scripts, and the query API answers as if they were
/// absent.
/// </summary>
public sealed class ScriptScope
{
    private readonly string[] _exact;
    private readonly string[] _prefixes;

    private ScriptScope(string[] exact, string[] prefixes, string key)
    {
        _exact = exact;
        _prefixes = prefixes;
        Key = key;
    }

    /// <summary>Every script: tokens without a list, and every request while authentication is off.</summary>
    public static ScriptScope All { get; } = new([], [], string.Empty);

    public bool IsAll => ReferenceEquals(this, All);

    /// <summary>The patterns in a canonical order, one per line; empty for <see cref="All"/>. Equal scopes, equal keys.</summary>
    public string Key { get; }

    /// <summary>
    /// The scope of these patterns: a name is exact, a name ending in <c>*</c> is a prefix. Null patterns mean all
    /// scripts; otherwise each must be a non-empty name with at most a trailing <c>*</c>.
    /// </summary>
    public static ScriptScope Parse(IReadOnlyCollection<string>? patterns, string what)
    {
        if (patterns is null)
        {
            return All;
        }

        if (patterns.Count == 0)
        {
            throw new FormatException($"{what}: scripts is empty; list at least one script name or prefix (name*), or leave scripts out for all scripts");
        }

        var exact = new SortedSet<string>(StringComparer.Ordinal);
        var prefixes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var pattern in patterns)
        {
            var star = pattern?.IndexOf('*', StringComparison.Ordinal) ?? -1;
            if (string.IsNullOrWhiteSpace(pattern) || pattern == "*" || (star >= 0 && star != pattern.Length - 1))
            {
                throw new FormatException($"{what}: '{pattern}' is not a script pattern; give a script name, or a prefix ending in * (billing-*)");
            }

            (star < 0 ? exact : prefixes).Add(star < 0 ? pattern : pattern[..^1]);
        }

        var key = string.Join('\n', exact.Select(e => "=" + e).Concat(prefixes.Select(p => "^" + p)));
        return new ScriptScope([.. exact], [.. prefixes], key);
    }

    public bool Allows(string script) =>
        IsAll || _exact.Contains(script, StringComparer.Ordinal) || _prefixes.Any(p => script.StartsWith(p, StringComparison.Ordinal));

    /// <summary>The condition on <paramref name="column"/> that keeps this scope's scripts, its values as parameters.</summary>
    internal string Sql(SqlWhere where, string column) => Condition(column, value => where.Param(value));

    /// <summary>The same condition with the values as quoted literals, for a statement that takes no parameters.</summary>
    internal string SqlLiteral(string column) => Condition(column, value => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'");

    private string Condition(string column, Func<string, string> value) => IsAll
        ? "true"
        : "(" + string.Join(" OR ", _exact.Select(e => $"{column} = {value(e)}").Concat(_prefixes.Select(p => $"starts_with({column}, {value(p)})"))) + ")";

    public override string ToString() => IsAll ? "all scripts" : new StringBuilder()
        .AppendJoin(", ", _exact.Concat(_prefixes.Select(p => p + "*"))).ToString();
}
