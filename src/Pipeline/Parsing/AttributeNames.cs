namespace Pipeline.Parsing;

/// <summary>The attribute keys script runtimes send (the seed's korelogger trace format) and that mapping reads.</summary>
internal static class AttributeNames
{
    public const string RunId = "run_id";
    public const string ScriptName = "script.name";
    public const string ServiceName = "service.name";
    public const string DeploymentId = "deployment_id";
    public const string DeploymentVersion = "deployment.version";
    public const string Source = "source";
    public const string SourceType = "source_type";
    public const string LogMessage = "log.message";
    public const string LogLevel = "log.level";
    public const string LogId = "log.meta.logid";
    public const string Pid = "log.meta.pid";
    public const string Function = "function";
    public const string CodeFunction = "code.function";
    public const string CodeFunctionName = "code.function.name";
    public const string Input = "input";
    public const string Output = "output";
    public const string Stdout = "stdout";
    public const string Stderr = "stderr";
    public const string IoStream = "log.iostream";
}
