using OpenTelemetry.Proto.Common.V1;

namespace Pipeline.Parsing;

/// <summary>Collects the attributes that say which run a record belongs to, as they stream past.</summary>
internal struct RunAttributes
{
    public string? RunId;
    public string? ScriptName;
    public string? DeploymentId;
    public int? DeploymentVersion;
    public string? Source;
    public string? SourceType;

    /// <summary>Takes the attribute if it is one of the run's; false leaves it to the caller.</summary>
    public bool TryTake(KeyValue kv)
    {
        switch (kv.Key)
        {
            case AttributeNames.RunId:
                RunId = ResourceInfo.NullIfBlank(OtlpValues.AsText(kv.Value));
                return true;
            case AttributeNames.ScriptName:
                ScriptName = OtlpValues.AsText(kv.Value);
                return true;
            case AttributeNames.DeploymentId:
                DeploymentId = ResourceInfo.NullIfBlank(OtlpValues.AsText(kv.Value));
                return true;
            case AttributeNames.DeploymentVersion:
                var version = OtlpValues.AsInteger(kv.Value);
                DeploymentVersion = version is > 0 and <= int.MaxValue ? (int)version : null;
                return true;
            case AttributeNames.Source:
                Source = ResourceInfo.NullIfBlank(OtlpValues.AsText(kv.Value));
                return true;
            case AttributeNames.SourceType:
                SourceType = NormalizeSourceType(OtlpValues.AsText(kv.Value));
                return true;
            default:
                return false;
        }
    }

    /// <summary>The run context, reusing <paramref name="previous"/> when it says the same (spans of a run come together).</summary>
    public readonly RunContext ToContext(string runId, string script, RunContext? previous) =>
        previous is not null && previous.RunId == runId && previous.Script == script && previous.DeploymentId == DeploymentId
            && previous.DeploymentVersion == DeploymentVersion && previous.Source == Source && previous.SourceType == SourceType
            ? previous
            : new(runId, script, DeploymentId, DeploymentVersion, Source, SourceType);

    /// <summary>Kept as sent, but the obvious spellings of the two known kinds are made one.</summary>
    internal static string? NormalizeSourceType(string? raw)
    {
        var value = ResourceInfo.NullIfBlank(raw)?.Trim();
        return value?.ToUpperInvariant() switch
        {
            "API" => "API",
            "TOOL" => "Tool",
            _ => value,
        };
    }
}
