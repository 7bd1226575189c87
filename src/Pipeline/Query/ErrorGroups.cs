using System.Text;
using System.Text.RegularExpressions;

namespace Pipeline.Query;

/// <summary>
/// The group of a failed run's error: its message with what varies from run to run masked, so that the same failure
/// counts once. UUIDs, run ids such as <c>run_123</c> and hex ids of 8 or more digits become <c>&lt;id&gt;</c>,
/// numbers <c>&lt;n&gt;</c>; runs of whitespace one space; the result is trimmed and cut to
/// <see cref="MaxLength"/> characters. The one definition, used by <c>/api/runs/errors</c> and by the filter column
/// <c>errorGroup</c> alike, so that a group's click-through lists exactly its runs.
/// </summary>
internal static partial class ErrorGroups
{
    public const string Column = "errorGroup";

    public const int MaxLength = 300;

    public const string IdToken = "<id>";

    public const string NumberToken = "<n>";

    /// <summary>The steps of the normalisation, in order: an RE2 pattern and what each match becomes.</summary>
    private static readonly (string Pattern, string Replacement)[] Steps =
    [
        (@"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\brun_\w*[0-9]\w*|\b(0x)?[0-9a-fA-F]{8,}\b", IdToken),
        ("[0-9]+", NumberToken),
        (@"\s\s+|[\t\n\f\r]", " "),
    ];

    /// <summary>
    /// The SQL of a run's error group over the runs columns <c>status</c> and <c>error</c>: null unless it failed with
    /// a message. (Empty for a message of whitespace only: <c>/api/runs/errors</c> leaves those out.)
    /// </summary>
    public static readonly string Sql = $"CASE WHEN status = 'Failed' THEN {Of("error")} END";

    /// <summary>
    /// The SQL of the group of the message <paramref name="text"/> (SQL naming a text column): every step, then
    /// trimmed and cut. The patterns and replacements are ours, never a user's.
    /// </summary>
    public static string Of(string text) =>
        $"left(trim({Steps.Aggregate(text, (inner, step) => $"regexp_replace({inner}, '{step.Pattern}', '{step.Replacement}', 'g')")}), {MaxLength})";

    /// <summary>
    /// A LIKE pattern (<c>\</c> escapes; compare it with lower case on both sides) that every error of the group
    /// matches: the group's literal parts in order, anything between them. Lets a filter on a group skip the regular
    /// expressions for most runs.
    /// </summary>
    public static string Pattern(string group)
    {
        var parts = Parts().Split(group).ToList();
        if (group.Length >= MaxLength)
        {
            parts.RemoveAt(parts.Count - 1); // Cut at the limit: the last part may be half a token.
        }

        var pattern = new StringBuilder("%");
        foreach (var part in parts.Where(p => p.Length > 0))
        {
            foreach (var c in part)
            {
                if (c is '%' or '_' or '\\')
                {
                    pattern.Append('\\');
                }

                pattern.Append(c);
            }

            pattern.Append('%');
        }

        return pattern.ToString();
    }

    /// <summary>What separates a group's literal parts: its masks, in any case (comparisons ignore it), and its spaces.</summary>
    [GeneratedRegex("<id>|<n>| ", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Parts();
}
