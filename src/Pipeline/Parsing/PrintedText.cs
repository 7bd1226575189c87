using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Pipeline.Parsing;

/// <summary>
/// Turns what a script printed into log lines: one per line; stderr lines are Stderr; a stdout line in the
/// configured pattern takes its level (and may then mirror a korelogger log), other stdout lines are Stdout.
/// </summary>
internal sealed class PrintedText
{
    private readonly Regex _pattern;
    private readonly int _levelGroup;
    private readonly int _messageGroup;

    public PrintedText(IOptions<MappingOptions> options)
    {
        _pattern = new Regex(options.Value.StdoutPattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        _levelGroup = _pattern.GroupNumberFromName("level");
        _messageGroup = _pattern.GroupNumberFromName("message");
    }

    /// <summary>
    /// Splits text into lines (LF or CRLF). A final line break ends the last line and adds no empty one;
    /// blank lines inside the text are kept, as the script printed them.
    /// </summary>
    public static List<string> SplitLines(string text)
    {
        var lines = new List<string>();
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            if (end < 0)
            {
                end = text.Length;
            }

            var length = end - start;
            if (length > 0 && text[end - 1] == '\r')
            {
                length--;
            }

            lines.Add(text.Substring(start, length));
            start = end + 1;
        }

        return lines;
    }

    /// <summary>The level and message of one stdout line, with <paramref name="fallbackLevel"/> when it is not in the pattern.</summary>
    public (string Level, string Message) ReadStdoutLine(string line, string? fallbackLevel)
    {
        var match = _pattern.Match(line);
        if (match.Success)
        {
            var level = LogLevels.Normalize(match.Groups[_levelGroup].Value);
            if (level is not null)
            {
                return (level, match.Groups[_messageGroup].Value);
            }
        }

        return (fallbackLevel ?? LogLevels.Stdout, line);
    }
}
