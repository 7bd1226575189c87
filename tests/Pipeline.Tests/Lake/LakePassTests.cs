using Pipeline.Lake;
using Pipeline.Storage;

namespace Pipeline.Tests.Lake;

/// <summary>The publisher's pure rules: which slices are closed, what a pass reads, names and escapes, commit times.</summary>
public sealed class LakePassTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly TimeSpan FiveMinutes = TimeSpan.FromMinutes(5);
    private static readonly DateTime Now = new(2026, 11, 26, 10, 4, 0, DateTimeKind.Utc);

    [Fact]
    public void AFirstPass_TakesEverySliceThatEndedDelayAgo()
    {
        var pass = LakePass.At(Now, Now.AddSeconds(-1), null, Hour, FiveMinutes)!;

        // 10:04 - 5 min = 09:59: the 08:00-09:00 slice is the newest closed one.
        Assert.Equal(new DateTime(2026, 11, 26, 9, 0, 0, DateTimeKind.Utc), pass.Cutoff);
        Assert.Equal("executed_on < TIMESTAMP '2026-11-26 09:00:00.000000' AND (updated_at IS NULL OR updated_at <= TIMESTAMP '2026-11-26 10:03:59.000000')", pass.NewSlices(LakeTable.Runs));
        Assert.Null(pass.LateRows(LakeTable.Runs));
    }

    [Fact]
    public void ALaterPass_TakesTheNewlyClosedSlices_AndWhatWasCommittedSinceInTheOlderOnes()
    {
        var previous = new LakeState(new DateTime(2026, 11, 26, 8, 0, 0, DateTimeKind.Utc), new DateTime(2026, 11, 26, 9, 0, 0, DateTimeKind.Utc), 3);

        var pass = LakePass.At(Now, new DateTime(2026, 11, 26, 10, 0, 0, DateTimeKind.Utc), previous, Hour, FiveMinutes)!;

        Assert.Equal(
            "timestamp >= TIMESTAMP '2026-11-26 08:00:00.000000' AND timestamp < TIMESTAMP '2026-11-26 09:00:00.000000' AND (committed_at IS NULL OR committed_at <= TIMESTAMP '2026-11-26 10:00:00.000000')",
            pass.NewSlices(LakeTable.Logs));
        Assert.Equal(
            "committed_at > TIMESTAMP '2026-11-26 09:00:00.000000' AND committed_at <= TIMESTAMP '2026-11-26 10:00:00.000000' AND start_time < TIMESTAMP '2026-11-26 08:00:00.000000'",
            pass.LateRows(LakeTable.Spans));
    }

    [Fact]
    public void NothingNew_NoPass_AndAClockThatWentBack_MovesNothingBack()
    {
        var previous = new LakeState(new DateTime(2026, 11, 26, 9, 0, 0, DateTimeKind.Utc), Now, 3);

        Assert.Null(LakePass.At(Now, null, previous, Hour, FiveMinutes));
        Assert.Null(LakePass.At(Now.AddHours(-5), Now.AddHours(-5), previous, Hour, FiveMinutes));
        var later = LakePass.At(Now.AddHours(-5), Now.AddMinutes(1), previous, Hour, FiveMinutes)!;
        Assert.Equal(previous.Cutoff, later.Cutoff);
        Assert.Null(later.NewSlices(LakeTable.Runs));
        Assert.NotNull(later.LateRows(LakeTable.Runs));
    }

    [Theory]
    [InlineData("billing", "billing")]
    [InlineData("nightly job-2.v_1", "nightly job-2.v_1")]
    [InlineData("a/b=c", "a%2Fb%3Dc")]
    [InlineData("..", "%2E%2E")]
    [InlineData("", "%00")]
    [InlineData("café", "caf%C3%A9")]
    public void ScriptNames_AreEscapedAsHiveDoes(string script, string folder) => Assert.Equal(folder, LakeLayout.Escape(script));

    [Fact]
    public void ALongScriptName_IsCutWithinAFolderNamesLength_KeepingWholeEscapes_AndHashed()
    {
        var name = new string('ü', 256);
        var folder = LakeLayout.Escape(name);

        Assert.True(folder.Length <= LakeLayout.MaxFolderValue, folder);
        Assert.Matches("^(%C3%BC)+~[0-9a-f]{16}$", folder);
        Assert.NotEqual(folder, LakeLayout.Escape(name[..255] + "x"));
        Assert.Equal(new string('a', 200), LakeLayout.Escape(new string('a', 200)));
    }

    [Fact]
    public void AFilesPath_NamesTableScriptDayNodeSliceAndSequence() =>
        Assert.Equal(
            "logs/script=billing/date=2026-11-26/sidecar-7-20261126T0915Z-0003.parquet",
            LakeLayout.RelativePath("logs", "billing", LakeLayout.SliceStart(new DateTime(2026, 11, 26, 9, 29, 59, DateTimeKind.Utc), TimeSpan.FromMinutes(15)), "sidecar-7", 3));

    [Theory]
    [InlineData("00:00:30", false)]
    [InlineData("00:07:00", false)]
    [InlineData("00:15:00", true)]
    [InlineData("1.00:00:00", true)]
    public void SliceLengths_MustDivideADay(string length, bool valid) =>
        Assert.Equal(valid, !new LakeOptions { SliceLength = TimeSpan.Parse(length, System.Globalization.CultureInfo.InvariantCulture) }.Validate().Any());

    [Fact]
    public void CommitTimes_AlwaysGrow_WhateverTheClockDoes()
    {
        var last = new DateTime(2026, 11, 26, 10, 0, 0, DateTimeKind.Utc);

        Assert.Equal(last.AddSeconds(1), DuckDbWriter.Later(last.AddSeconds(1), last));
        Assert.Equal(last.AddTicks(10), DuckDbWriter.Later(last, last));
        Assert.Equal(last.AddTicks(10), DuckDbWriter.Later(last.AddHours(-1), last));
        Assert.Equal(last.AddTicks(10), DuckDbWriter.Later(last.AddTicks(3), last));
    }
}
