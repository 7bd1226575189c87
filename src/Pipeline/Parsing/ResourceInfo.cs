using OpenTelemetry.Proto.Resource.V1;

namespace Pipeline.Parsing;

/// <summary>What the rows of one resource share: its script and service names, run id, and its attributes as JSON.</summary>
internal sealed record ResourceInfo(string? ScriptName, string? ServiceName, string? RunId, string? Json)
{
    public static ResourceInfo From(Resource? resource)
    {
        if (resource is null)
        {
            return new ResourceInfo(null, null, null, null);
        }

        string? script = null, service = null, runId = null;
        foreach (var kv in resource.Attributes)
        {
            switch (kv.Key)
            {
                case AttributeNames.ScriptName:
                    script = OtlpValues.AsText(kv.Value);
                    break;
                case AttributeNames.ServiceName:
                    service = OtlpValues.AsText(kv.Value);
                    break;
                case AttributeNames.RunId:
                    runId = OtlpValues.AsText(kv.Value);
                    break;
                default:
                    break;
            }
        }

        return new ResourceInfo(NullIfBlank(script), NullIfBlank(service), NullIfBlank(runId), OtlpValues.ToJsonObject(resource.Attributes));
    }

    /// <summary>Script name rule: the record's <c>script.name</c>, else the resource's, else <c>service.name</c>.</summary>
    public string? ScriptFor(string? recordScriptName) => NullIfBlank(recordScriptName) ?? ScriptName ?? ServiceName;

    internal static string? NullIfBlank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
