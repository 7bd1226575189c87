using DuckDB.NET.Data;

namespace Pipeline.Storage;

/// <summary>
/// Deployment versions per script: an integer <c>deployment.version</c> is taken as sent; any other deployment id
/// is numbered 1, 2, 3... per script in the order it is first seen. The writer is the only writer, so this cache,
/// loaded at start, is the truth; new entries count only once their transaction commits.
/// </summary>
internal sealed class DeploymentVersions
{
    private readonly Dictionary<(string Script, string DeploymentId), int> _known = [];
    private readonly Dictionary<string, int> _highest = [];
    private readonly List<(string Script, string DeploymentId, int Version, DateTime FirstSeen)> _pending = [];

    public DeploymentVersions(DuckDBConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT script, deployment_id, version FROM deployments";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            Remember(reader.GetString(0), reader.GetString(1), reader.GetInt32(2));
        }
    }

    /// <summary>New deployments seen since the last commit, to be stored with it.</summary>
    public IReadOnlyList<(string Script, string DeploymentId, int Version, DateTime FirstSeen)> Pending => _pending;

    /// <summary>The version a row of this deployment shows; registers the deployment when first seen.</summary>
    public int? VersionOf(string script, string? deploymentId, int? explicitVersion, DateTime seenAt)
    {
        if (deploymentId is null)
        {
            return explicitVersion;
        }

        if (!_known.TryGetValue((script, deploymentId), out var version))
        {
            version = explicitVersion ?? _highest.GetValueOrDefault(script) + 1;
            Remember(script, deploymentId, version);
            _pending.Add((script, deploymentId, version, seenAt));
        }

        return explicitVersion ?? version;
    }

    public void Committed() => _pending.Clear();

    /// <summary>The transaction failed: forget what it would have registered.</summary>
    public void RolledBack()
    {
        foreach (var (script, deploymentId, _, _) in _pending)
        {
            _known.Remove((script, deploymentId));
        }

        _pending.Clear();
        _highest.Clear();
        foreach (var ((script, _), version) in _known)
        {
            _highest[script] = Math.Max(_highest.GetValueOrDefault(script), version);
        }
    }

    private void Remember(string script, string deploymentId, int version)
    {
        _known[(script, deploymentId)] = version;
        _highest[script] = Math.Max(_highest.GetValueOrDefault(script), version);
    }
}
