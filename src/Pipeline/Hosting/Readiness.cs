using Pipeline.Storage;

namespace Pipeline.Hosting;

/// <summary>
/// What keeps this daemon from answering <c>/readyz</c> before a probe query is even tried: for a store daemon its
/// writer and the last commit, for a lake-mode daemon its lake folder. Null when nothing does.
/// </summary>
internal sealed class Readiness(Func<string?> reason)
{
    public string? Reason() => reason();

    /// <summary>A store daemon: the writer runs and its last commit (or probe of the store) succeeded.</summary>
    public static Readiness Store(IServiceProvider services)
    {
        var writer = services.GetRequiredService<WriterService>();
        var health = services.GetRequiredService<StoreHealth>();
        return new Readiness(() => !writer.IsRunning ? "the writer is not running"
            : health.Failure is { } failure ? $"{failure.Reason} (since {failure.Since:O})"
            : null);
    }
}
