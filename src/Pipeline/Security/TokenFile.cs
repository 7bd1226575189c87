using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Security;

/// <summary>
/// <c>Security:TokensFile</c>: a JSON file of tokens, each with what it opens and, optionally, the scripts it reaches.
/// <code>
/// { "tokens": [
///     { "name": "tenant-a", "kind": "ingest", "token": "…", "scripts": ["tenant-a-*"] },
///     { "name": "ops", "kind": "read", "sha256": "&lt;hex digest of the token&gt;" },
///     { "name": "prometheus", "kind": "metrics", "token": "…" } ] }
/// </code>
/// A token is given as itself (<c>token</c>, at least 16 characters) or as the hex SHA-256 of itself (<c>sha256</c>),
/// so the file need not hold secrets. Parsing is pure; <see cref="Read"/> reads the file.
/// </summary>
public sealed class TokenFile
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private TokenFile(IReadOnlyList<Grant> grants) => Grants = grants;

    public IReadOnlyList<Grant> Grants { get; }

    /// <summary>Reads and parses the file; <see cref="FormatException"/> or an I/O error says what is wrong with it.</summary>
    public static TokenFile Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"Security:TokensFile '{path}' cannot be read: {ex.Message}", ex);
        }

        return Parse(text, path);
    }

    public static TokenFile Parse(string text, string path)
    {
        Document? document;
        try
        {
            document = JsonSerializer.Deserialize<Document>(text, Json);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"Security:TokensFile '{path}' is not valid: {ex.Message}", ex);
        }

        if (document?.Tokens is null)
        {
            throw new FormatException($"Security:TokensFile '{path}' has no \"tokens\" list");
        }

        var grants = new List<Grant>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < document.Tokens.Count; i++)
        {
            var entry = document.Tokens[i];
            var name = string.IsNullOrWhiteSpace(entry.Name) ? string.Create(CultureInfo.InvariantCulture, $"#{i + 1}") : entry.Name;
            var what = $"Security:TokensFile '{path}', token {name}";
            if (!names.Add(name))
            {
                throw new FormatException($"{what}: the name is used twice");
            }

            if (!Enum.TryParse<TokenKind>(entry.Kind, ignoreCase: true, out var kind) || !Enum.IsDefined(kind) || int.TryParse(entry.Kind, out _))
            {
                throw new FormatException($"{what}: kind must be ingest, read or metrics (got '{entry.Kind}')");
            }

            grants.Add(new Grant(name, kind, ScriptScope.Parse(entry.Scripts, what), Digest(entry, what)));
        }

        var repeated = grants.GroupBy(g => Convert.ToHexString(g.Digest)).FirstOrDefault(g => g.Count() > 1);
        return repeated is null
            ? new TokenFile(grants)
            : throw new FormatException($"Security:TokensFile '{path}': tokens {string.Join(" and ", repeated.Select(g => g.Name))} are the same token; give each its own");
    }

    private static byte[] Digest(Entry entry, string what)
    {
        if ((entry.Token is null) == (entry.Sha256 is null))
        {
            throw new FormatException($"{what}: give exactly one of token or sha256");
        }

        if (entry.Token is { } token)
        {
            return SecurityOptions.TokenProblem(token) is { } problem ? throw new FormatException($"{what}: the token {problem}") : Grant.DigestOf(token);
        }

        try
        {
            var digest = Convert.FromHexString(entry.Sha256!);
            return digest.Length == SHA256.HashSizeInBytes ? digest : throw new FormatException("wrong length");
        }
        catch (FormatException)
        {
            throw new FormatException($"{what}: sha256 must be 64 hex digits (the SHA-256 of the token: printf %s TOKEN | sha256sum)");
        }
    }

    private sealed record Document(List<Entry>? Tokens);

    private sealed record Entry(string? Name, string? Kind, string? Token, string? Sha256, List<string>? Scripts);
}
