using System.Globalization;
using System.Text.Json;

namespace Pipeline.Query;

/// <summary>
/// The functions ad hoc SQL may call: the allowlist in <c>Query/SqlFunctions.txt</c> (embedded in the binary), and the
/// size rules of the functions whose result can be far larger than their input. Those run only when constants in the
/// query bound their result, and none may be nested in another's arguments, where sizes would multiply.
/// </summary>
internal static class SqlFunctions
{
    /// <summary>The longest result of lpad and rpad, and of repeat (text times count).</summary>
    public const int MaxLength = 10_000;

    /// <summary>The largest count of repeat.</summary>
    public const int MaxRepeat = 1000;

    /// <summary>The largest width or precision in a printf or format string.</summary>
    public const int MaxWidth = 1000;

    /// <summary>The most that the widths and precisions of one printf or format string may add up to.</summary>
    public const int MaxWidths = 10_000;

    /// <summary>The longest replacement of replace and regexp_replace.</summary>
    public const int MaxReplacement = 1000;

    /// <summary>Functions that apply an aggregate named by a string argument (list_aggregate(l, 'sum')).</summary>
    private static readonly HashSet<string> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        "aggregate", "array_aggr", "array_aggregate", "list_aggr", "list_aggregate",
    };

    private static readonly HashSet<string> Allowed = Load();

    public static bool IsAllowed(string name) => Allowed.Contains(name);

    /// <summary>Every name of the allowlist, as written there.</summary>
    public static IReadOnlyCollection<string> Names => Allowed;

    /// <summary>
    /// Checks the arguments of a call to <paramref name="name"/>; throws when they could build a huge value. Returns
    /// whether the call can make text larger than its input (and so may not hold another such call).
    /// </summary>
    public static bool CheckArguments(string name, JsonElement children)
    {
        var arguments = children.ValueKind == JsonValueKind.Array ? children.EnumerateArray().ToList() : [];
        if (ByName.Contains(name))
        {
            // list_aggregate(l, 'name', ...) calls the aggregate it names: that name is checked as a call would be.
            var aggregate = arguments.Count > 1 ? Text(arguments[1]) : null;
            if (aggregate is null || !IsAllowed(aggregate) || IsSized(aggregate))
            {
                throw new QueryException($"function '{name}' is not allowed here: its aggregate must be named by a constant string, and be one the SQL sandbox allows (got {Describe(arguments, 1)})");
            }

            return false;
        }

        switch (name.ToLowerInvariant())
        {
            case "lpad" or "rpad":
                var length = arguments.Count > 1 ? Integer(arguments[1]) : null;
                if (length is null or > MaxLength)
                {
                    throw new QueryException($"function '{name}' is not allowed here: its length must be a constant integer of at most {MaxLength} (got {Describe(arguments, 1)})");
                }

                return true;
            case "repeat":
                var text = arguments.Count > 0 ? Text(arguments[0]) : null;
                var count = arguments.Count > 1 ? Integer(arguments[1]) : null;
                if (count is null or > MaxRepeat)
                {
                    throw new QueryException($"function '{name}' is not allowed here: its count must be a constant integer of at most {MaxRepeat} (got {Describe(arguments, 1)})");
                }

                if (text is null || (long)text.Length * Math.Max(0, count.Value) > MaxLength)
                {
                    throw new QueryException($"function '{name}' is not allowed here: its text must be a constant, and the result at most {MaxLength} characters (got {Describe(arguments, 0)} times {count})");
                }

                return true;
            case "printf" or "format":
                var pattern = arguments.Count > 0 ? Text(arguments[0]) : null;
                if (pattern is null)
                {
                    throw new QueryException($"function '{name}' is not allowed here: its format must be a constant string (got {Describe(arguments, 0)})");
                }

                CheckWidths(name, pattern);
                return true;
            case "replace" or "regexp_replace":
                var replacement = arguments.Count > 2 ? Text(arguments[2]) : null;
                if (replacement is null || replacement.Length > MaxReplacement)
                {
                    throw new QueryException($"function '{name}' is not allowed here: its replacement must be a constant string of at most {MaxReplacement} characters (got {Describe(arguments, 2)})");
                }

                // Text only grows where the replacement is longer than what it replaces; a regular expression may match nothing.
                var needle = name.Equals("replace", StringComparison.OrdinalIgnoreCase) ? Text(arguments[1]) : null;
                return needle is null ? replacement.Length > 0 : replacement.Length > needle.Length;
            default:
                return false;
        }
    }

    /// <summary>Whether the function is one whose arguments <see cref="CheckArguments"/> checks for size.</summary>
    public static bool IsSized(string name) =>
        name.ToLowerInvariant() is "lpad" or "rpad" or "repeat" or "printf" or "format" or "replace" or "regexp_replace";

    /// <summary>
    /// Every width and precision in a printf (<c>%8.2f</c>) or format (<c>{:>8}</c>) string: each at most
    /// <see cref="MaxWidth"/>, together at most <see cref="MaxWidths"/>, and written out (not <c>*</c> or <c>{}</c>,
    /// which take them from the arguments).
    /// </summary>
    private static void CheckWidths(string name, string pattern)
    {
        var specs = name.Equals("printf", StringComparison.OrdinalIgnoreCase) ? PrintfSpecs(pattern) : FormatSpecs(pattern);
        long total = 0;
        foreach (var spec in specs)
        {
            if (spec.Contains('*', StringComparison.Ordinal) || spec.Contains('{', StringComparison.Ordinal))
            {
                throw new QueryException($"function '{name}' is not allowed here: widths and precisions must be written in its format, not taken from arguments (got '{spec}')");
            }

            for (var i = 0; i < spec.Length; i++)
            {
                if (!char.IsAsciiDigit(spec[i]))
                {
                    continue;
                }

                var start = i;
                while (i < spec.Length && char.IsAsciiDigit(spec[i]))
                {
                    i++;
                }

                // A number before '$' picks an argument (%1$s); it sets no width.
                if (i < spec.Length && spec[i] == '$')
                {
                    continue;
                }

                var digits = spec[start..i].TrimStart('0');
                var value = digits.Length > 9 ? long.MaxValue : long.Parse(digits.Length == 0 ? "0" : digits, CultureInfo.InvariantCulture);
                if (value > MaxWidth)
                {
                    throw new QueryException($"function '{name}' is not allowed here: every width and precision in its format must be at most {MaxWidth} (got {spec[start..i]})");
                }

                total += value;
            }
        }

        if (total > MaxWidths)
        {
            throw new QueryException($"function '{name}' is not allowed here: the widths and precisions in its format may add up to at most {MaxWidths} (got {total})");
        }
    }

    /// <summary>What lies between each '%' and its conversion letter ("%%" is a plain '%').</summary>
    private static IEnumerable<string> PrintfSpecs(string pattern)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] != '%')
            {
                continue;
            }

            if (i + 1 < pattern.Length && pattern[i + 1] == '%')
            {
                i++;
                continue;
            }

            var start = i + 1;
            var end = start;
            while (end < pattern.Length && !IsConversion(pattern[end]))
            {
                end++;
            }

            yield return pattern[start..end];
            i = end;
        }
    }

    private static bool IsConversion(char c) => char.IsAsciiLetter(c) && c is not ('h' or 'l' or 'L' or 'q' or 'j' or 'z' or 't');

    /// <summary>The format spec (after ':') of each replacement field; "{{" and "}}" are plain braces.</summary>
    private static IEnumerable<string> FormatSpecs(string pattern)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] != '{')
            {
                continue;
            }

            if (i + 1 < pattern.Length && pattern[i + 1] == '{')
            {
                i++;
                continue;
            }

            // The field runs to its closing brace; a nested '{' (a width taken from an argument) stays in the spec.
            var end = i + 1;
            var depth = 1;
            while (end < pattern.Length && depth > 0)
            {
                depth += pattern[end] switch { '{' => 1, '}' => -1, _ => 0 };
                end++;
            }

            var field = pattern[(i + 1)..Math.Max(i + 1, end - 1)];
            var colon = field.IndexOf(':', StringComparison.Ordinal);
            yield return colon < 0 ? (field.Contains('{', StringComparison.Ordinal) ? field : string.Empty) : field[(colon + 1)..];
            i = end - 1;
        }
    }

    /// <summary>A constant integer argument, or null when the argument is anything else.</summary>
    private static long? Integer(JsonElement argument) =>
        Constant(argument) is { } value && value.GetProperty("type").GetProperty("id").GetString() is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT"
            or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT"
        && value.GetProperty("value").ValueKind == JsonValueKind.Number && value.GetProperty("value").TryGetInt64(out var n)
            ? n
            : null;

    /// <summary>A constant string argument, or null when the argument is anything else.</summary>
    private static string? Text(JsonElement argument) =>
        Constant(argument) is { } value && value.GetProperty("type").GetProperty("id").GetString() == "VARCHAR"
        && value.GetProperty("value").ValueKind == JsonValueKind.String
            ? value.GetProperty("value").GetString()
            : null;

    private static JsonElement? Constant(JsonElement argument) =>
        argument.ValueKind == JsonValueKind.Object && argument.TryGetProperty("class", out var c) && c.GetString() == "CONSTANT"
        && argument.TryGetProperty("value", out var value) && value.TryGetProperty("is_null", out var isNull) && !isNull.GetBoolean()
            ? value
            : null;

    /// <summary>An argument as a refusal names it: a constant as written, anything else by its kind.</summary>
    private static string Describe(List<JsonElement> arguments, int index)
    {
        if (index >= arguments.Count)
        {
            return "nothing";
        }

        if (Constant(arguments[index]) is { } value)
        {
            var raw = value.GetProperty("value");
            var text = raw.ValueKind == JsonValueKind.String ? $"'{raw.GetString()}'" : raw.GetRawText();
            return text.Length > 40 ? $"{text[..40]}... ({text.Length} characters)" : text;
        }

        return arguments[index].TryGetProperty("class", out var kind) ? $"a {kind.GetString()?.ToLowerInvariant().Replace('_', ' ')} expression" : "something else";
    }

    private static HashSet<string> Load()
    {
        using var stream = typeof(SqlFunctions).Assembly.GetManifestResourceStream("Pipeline.Query.SqlFunctions.txt")
            ?? throw new InvalidOperationException("The SQL function allowlist is not embedded.");
        using var reader = new StreamReader(stream);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (reader.ReadLine() is { } line)
        {
            var name = line.Trim();
            if (name.Length > 0 && !name.StartsWith('#'))
            {
                names.Add(name);
            }
        }

        return names;
    }
}
