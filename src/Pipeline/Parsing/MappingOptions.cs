using System.Text.RegularExpressions;
using Pipeline.Hosting;

namespace Pipeline.Parsing;

/// <summary>Config section <c>Mapping</c>: how printed text is read.</summary>
public sealed class MappingOptions : IValidatedOptions
{
    public const string Section = "Mapping";

    private static readonly string[] RequiredGroups = ["level", "message"];

    /// <summary>
    /// A stdout line matching this regex takes its level from the <c>level</c> group and its message from
    /// the <c>message</c> group. The default is korelogger's mirror format, <c>LEVEL :: message</c>.
    /// </summary>
    public string StdoutPattern { get; set; } = "^(?<level>[A-Z]+) :: (?<message>.*)$";

    public IEnumerable<string> Validate()
    {
        Regex regex;
        try
        {
            regex = new Regex(StdoutPattern, RegexOptions.None, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException ex)
        {
            return [$"{Section}:{nameof(StdoutPattern)} is not a valid regex ({ex.Message})."];
        }

        return RequiredGroups
            .Where(group => regex.GroupNumberFromName(group) < 0)
            .Select(group => $"{Section}:{nameof(StdoutPattern)} needs a named group '{group}' (got '{StdoutPattern}').")
            .ToList();
    }
}
