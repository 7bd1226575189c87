using Microsoft.Extensions.Options;
using Pipeline.Parsing;

namespace Pipeline.Tests.Support;

internal static class Parsers
{
    public static PrintedText Printed(string? pattern = null) =>
        new(Options.Create(pattern is null ? new MappingOptions() : new MappingOptions { StdoutPattern = pattern }));

    public static TraceRequestParser Traces(string? pattern = null) => new(Printed(pattern));

    public static LogsRequestParser Logs(string? pattern = null) => new(Printed(pattern));
}
