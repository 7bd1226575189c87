using Microsoft.Playwright;

namespace Pipeline.Tests.Console;

/// <summary>
/// Debian's Chromium, headless, driven by Playwright, for the console's tests: pages that record every error the
/// browser reports (console errors, uncaught exceptions, failed requests), so that a test can assert there were none,
/// and screenshots for artifacts/ and docs/images/.
/// </summary>
internal sealed class ConsoleBrowser : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;

    private ConsoleBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<ConsoleBrowser> LaunchAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium package (.ci/run does).");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return new ConsoleBrowser(playwright, browser);
    }

    /// <summary>A page in a context of its own; <see cref="WatchedPage.Errors"/> collects what the browser reports as an error.</summary>
    public async Task<WatchedPage> NewPageAsync(BrowserNewContextOptions? options = null)
    {
        var context = await Browser.NewContextAsync(options ?? new() { ViewportSize = new() { Width = 1440, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        var watched = new WatchedPage(context, page);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                watched.Errors.Add($"console: {message.Text}");
            }
        };
        page.PageError += (_, error) => watched.Errors.Add($"page error: {error}");
        page.RequestFailed += (_, request) =>
        {
            // A download or a stream the page itself closed is not an error.
            if (request.Failure is { } failure && !failure.Contains("ERR_ABORTED", StringComparison.Ordinal))
            {
                watched.Errors.Add($"request failed: {request.Url}: {failure}");
            }
        };
        return watched;
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }

    /// <summary>A screenshot in artifacts/screenshots/ (every run) and, when <paramref name="forDocs"/>, in docs/images/.</summary>
    public static async Task ShotAsync(IPage page, string name, bool forDocs = false)
    {
        var folder = Path.Combine(RepositoryRoot(), "artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, $"{name}.png"), FullPage = true });
        if (forDocs)
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(RepositoryRoot(), "docs", "images", $"{name}.png") });
        }
    }

    public static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Pipeline.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? AppContext.BaseDirectory;
    }
}

/// <summary>A page and the errors the browser reported on it.</summary>
internal sealed class WatchedPage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IBrowserContext Context { get; } = context;

    public IPage Page { get; } = page;

    public List<string> Errors { get; } = [];

    /// <summary>The browser reported no error on this page (console, uncaught exception, failed request).</summary>
    public void AssertNoErrors() => Assert.True(Errors.Count == 0, "the browser reported errors:\n" + string.Join("\n", Errors));

    public ValueTask DisposeAsync() => new(Context.CloseAsync());
}
