namespace Pipeline.Tests.Support;

/// <summary>Waiting for what a daemon does in the background: a condition polled every 100 ms until it holds or time is up.</summary>
internal static class Poll
{
    /// <summary>Polls until <paramref name="condition"/> holds; fails after <paramref name="within"/> (<see cref="TestDaemon.Timeout"/> by default).</summary>
    public static Task Until(Func<bool> condition, TimeSpan? within = null) => Until(() => Task.FromResult(condition()), within);

    public static async Task Until(Func<Task<bool>> condition, TimeSpan? within = null)
    {
        var limit = within ?? TestDaemon.Timeout;
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"the condition did not hold within {limit.TotalSeconds:0} s");
            await Task.Delay(100);
        }
    }
}
