using Microsoft.Extensions.Options;

namespace Pipeline.Hosting;

/// <summary>An options class that knows its own rules; each error names the config key it is about.</summary>
public interface IValidatedOptions
{
    IEnumerable<string> Validate();
}

/// <summary>Runs <see cref="IValidatedOptions.Validate"/> for the options system, so bad config stops the start.</summary>
internal sealed class SelfValidation<T> : IValidateOptions<T>
    where T : class, IValidatedOptions
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        var errors = options.Validate().ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
