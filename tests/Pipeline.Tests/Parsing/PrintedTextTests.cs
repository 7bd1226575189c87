using Pipeline.Parsing;
using Pipeline.Tests.Support;

namespace Pipeline.Tests.Parsing;

public sealed class PrintedTextTests
{
    [Theory]
    [InlineData("a\nb\n", new[] { "a", "b" })]
    [InlineData("a\r\nb", new[] { "a", "b" })]
    [InlineData("a\n\nb", new[] { "a", "", "b" })]
    [InlineData("\n", new[] { "" })]
    [InlineData("", new string[0])]
    public void SplitLines_KeepsInnerBlanksDropsFinalBreak(string text, string[] lines) =>
        Assert.Equal(lines, PrintedText.SplitLines(text));

    [Theory]
    [InlineData("INFO :: hello", "Info", "hello")]
    [InlineData("WARNING :: a :: b", "Warning", "a :: b")]
    [InlineData("Result :: 42", "Stdout", "Result :: 42")]
    [InlineData("INFO:: no space", "Stdout", "INFO:: no space")]
    public void ReadStdoutLine_DefaultPattern(string line, string level, string message) =>
        Assert.Equal((level, message), Parsers.Printed().ReadStdoutLine(line, null));

    [Theory]
    [InlineData("(", "is not a valid regex")]
    [InlineData("^(?<level>\\w+)$", "needs a named group 'message'")]
    public void Validate_BadPattern_NamesTheKey(string pattern, string problem)
    {
        var error = Assert.Single(new MappingOptions { StdoutPattern = pattern }.Validate());

        Assert.StartsWith("Mapping:StdoutPattern ", error);
        Assert.Contains(problem, error);
    }
}
