using Microsoft.Extensions.Options;
using Pipeline.Query;

namespace Pipeline.Lake;

/// <summary>
/// The services of a <c>--Mode=lake</c> daemon that a store daemon does not have: the in-memory database of the
/// reader views (<see cref="LakeCatalog"/>), which the query side reads instead of a store file, and the check that
/// <c>Lake:Path</c> is a folder.
/// </summary>
internal static class LakeReader
{
    public static IServiceCollection AddLakeReader(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LakeOptions>().Bind(configuration.GetSection(LakeOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LakeOptions>, LakeFolderCheck>();
        services.AddSingleton<LakeCatalog>();
        services.AddHostedService(sp => sp.GetRequiredService<LakeCatalog>());
        services.AddSingleton(sp => sp.GetRequiredService<LakeCatalog>().Database);
        // Ready while the lake's folder is there (and, as for a store, a probe query answers).
        services.AddSingleton(sp => new Hosting.Readiness(sp.GetRequiredService<LakeCatalog>().Missing));
        return services;
    }

    /// <summary>A lake-mode daemon reads <c>Lake:Path</c>: it must name a folder that exists.</summary>
    private sealed class LakeFolderCheck : IValidateOptions<LakeOptions>
    {
        public ValidateOptionsResult Validate(string? name, LakeOptions options) =>
            string.IsNullOrWhiteSpace(options.Path)
                ? ValidateOptionsResult.Fail($"{LakeOptions.Section}:{nameof(LakeOptions.Path)} must name the lake's folder in lake mode (--Mode=lake); it is empty.")
                : !Directory.Exists(options.Path)
                    ? ValidateOptionsResult.Fail($"{LakeOptions.Section}:{nameof(LakeOptions.Path)} must be an existing folder in lake mode (--Mode=lake): '{Path.GetFullPath(options.Path)}' is not one.")
                    : ValidateOptionsResult.Success;
    }
}
