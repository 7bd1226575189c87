using System.Globalization;
using System.Text.Json;

namespace Pipeline.Query;

/// <summary>One condition: a column, an operator and one or more values (typed for the column).</summary>
internal sealed record Condition(Column Column, string Operator, IReadOnlyList<object> Values);

/// <summary>
/// A filter set, all-AND or all-OR (never mixed, as in the seed), parsed from
/// <c>{"op":"and"|"or","conditions":[{"column":"status","operator":"eq","values":["Failed"]}]}</c>.
/// </summary>
internal sealed record Filter(bool AnyOf, IReadOnlyList<Condition> Conditions)
{
    /// <summary>Several values mean any of them for these; none of them for the negations.</summary>
    public static readonly string[] Operators = ["eq", "neq", "in", "notIn", "contains", "notContains", "gt", "gte", "lt", "lte"];

    public static Filter Parse(string json, ColumnSet columns)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new QueryException($"filter is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new QueryException("filter must be a JSON object with \"op\" and \"conditions\"");
            }

            var op = root.TryGetProperty("op", out var opElement) && opElement.ValueKind == JsonValueKind.String ? opElement.GetString() : "and";
            if (op is not ("and" or "or"))
            {
                throw new QueryException($"filter op must be \"and\" or \"or\" (got '{op}'); one filter set is all-AND or all-OR");
            }

            if (!root.TryGetProperty("conditions", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                throw new QueryException("filter needs a \"conditions\" array");
            }

            var conditions = list.EnumerateArray().Select((c, i) => ParseCondition(c, i, columns)).ToList();
            return new Filter(op == "or", conditions);
        }
    }

    private static Condition ParseCondition(JsonElement element, int index, ColumnSet columns)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new QueryException($"filter condition #{index} must be an object");
        }

        var name = Text(element, "column", index);
        var column = columns.Find(name) ?? throw new QueryException($"unknown {columns.Noun} column '{name}' in filter condition #{index}; known: {columns.Names}");
        if (!column.Filterable)
        {
            throw new QueryException($"column '{name}' cannot be filtered on; use from and to for time");
        }

        var op = Text(element, "operator", index);
        if (!Operators.Contains(op))
        {
            throw new QueryException($"unknown operator '{op}' in filter condition #{index}; known: {string.Join(", ", Operators)}");
        }

        if (column.Operators is { } allowed && !allowed.Contains(op))
        {
            throw new QueryException($"column '{name}' takes the operators {string.Join(", ", allowed)} (condition #{index} has '{op}')");
        }

        if (!element.TryGetProperty("values", out var valuesElement) || valuesElement.ValueKind != JsonValueKind.Array || valuesElement.GetArrayLength() == 0)
        {
            throw new QueryException($"filter condition #{index} needs a non-empty \"values\" array");
        }

        var values = valuesElement.EnumerateArray().Select(v => Value(v, column, index)).ToList();
        if (op is "gt" or "gte" or "lt" or "lte" && values.Count != 1)
        {
            throw new QueryException($"operator '{op}' takes exactly one value (condition #{index} has {values.Count})");
        }

        if (op is "contains" or "notContains" && column.Kind != ColumnKind.Text)
        {
            throw new QueryException($"operator '{op}' works on text columns; '{name}' is a number");
        }

        return new Condition(column, op, values);
    }

    private static string Text(JsonElement element, string property, int index) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new QueryException($"filter condition #{index} needs a string \"{property}\"");

    private static object Value(JsonElement value, Column column, int index)
    {
        if (column.Kind == ColumnKind.Number)
        {
            if (value.ValueKind == JsonValueKind.Number)
            {
                return value.GetDouble();
            }

            if (value.ValueKind == JsonValueKind.String && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
            {
                return parsed;
            }

            throw new QueryException($"column '{column.Name}' takes numbers; condition #{index} has {value.GetRawText()}");
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Number => value.GetRawText(),
            _ => throw new QueryException($"column '{column.Name}' takes text values; condition #{index} has {value.GetRawText()}"),
        };
    }
}
