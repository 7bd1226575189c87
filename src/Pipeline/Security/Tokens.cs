using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Pipeline.Security;

/// <summary>What a token opens: OTLP ingest, the query API (with the console), or <c>/metrics</c>.</summary>
public enum TokenKind
{
    Ingest,
    Read,
    Metrics,
}

/// <summary>One token the daemon accepts, kept only as its SHA-256 digest.</summary>
public sealed record Grant(string Name, TokenKind Kind, ScriptScope Scope, byte[] Digest)
{
    public static byte[] DigestOf(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}

/// <summary>
/// The tokens accepted now: the single tokens of the config (<c>Security:IngestToken</c>, <c>ReadToken</c>,
/// <c>MetricsToken</c>, all scripts) and those of <c>Security:TokensFile</c>, swapped whole when the file changes
/// (<see cref="TokenFileWatch"/>). A surface asks for a token when its config token is set or a tokens file is
/// configured (a file without read tokens closes the API to everyone); <c>/metrics</c> when a metrics token exists.
/// </summary>
public sealed class Tokens
{
    private readonly Grant[] _configured;
    private volatile Grant[] _all;

    public Tokens(IOptions<SecurityOptions> options)
    {
        var security = options.Value;
        _configured =
        [
            .. Single("Security:IngestToken", TokenKind.Ingest, security.IngestToken),
            .. Single("Security:ReadToken", TokenKind.Read, security.ReadToken),
            .. Single("Security:MetricsToken", TokenKind.Metrics, security.MetricsToken),
        ];
        HasFile = security.TokensFile.Length > 0;
        IngestLocked = security.IngestAsksForTokens;
        ReadLocked = security.ReadAsksForTokens;

        // Options validation has read the file once already; a file that changed since is read again here.
        _all = HasFile ? [.. _configured, .. TokenFile.Read(security.TokensFile).Grants] : _configured;
    }

    public bool HasFile { get; }

    /// <summary>OTLP exports must carry an ingest token.</summary>
    public bool IngestLocked { get; }

    /// <summary>The query API, its live streams, exports and the console's data need a read token.</summary>
    public bool ReadLocked { get; }

    /// <summary>/metrics needs a metrics token (one is configured or listed in the file now).</summary>
    public bool MetricsLocked => _all.Any(g => g.Kind == TokenKind.Metrics);

    /// <summary>How many tokens are accepted now.</summary>
    public int Count => _all.Length;

    /// <summary>
    /// The grant of <paramref name="kind"/> this token carries, or null. Every grant is compared, each in fixed time,
    /// so the time taken says nothing of which token (or how much of one) matched.
    /// </summary>
    public Grant? Find(TokenKind kind, string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        var digest = Grant.DigestOf(token);
        Grant? found = null;
        foreach (var grant in _all)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, grant.Digest) && grant.Kind == kind)
            {
                found ??= grant;
            }
        }

        return found;
    }

    /// <summary>
    /// Whether the token behind <paramref name="grant"/> is still accepted, for the same scripts: a long request (a
    /// live stream) ends once its token is rotated out.
    /// </summary>
    public bool StillAccepts(Grant grant)
    {
        foreach (var current in _all)
        {
            if (current.Kind == grant.Kind && CryptographicOperations.FixedTimeEquals(current.Digest, grant.Digest))
            {
                return current.Scope.Key == grant.Scope.Key;
            }
        }

        return false;
    }

    /// <summary>Takes the file's tokens in place of the previous ones (with the config's, which never change).</summary>
    internal void Replace(IReadOnlyList<Grant> fromFile) => _all = [.. _configured, .. fromFile];

    private static IEnumerable<Grant> Single(string key, TokenKind kind, string token) =>
        token.Length == 0 ? [] : [new Grant(key, kind, ScriptScope.All, Grant.DigestOf(token))];
}
