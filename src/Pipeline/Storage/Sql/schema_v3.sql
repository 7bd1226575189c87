-- Version 3: what the lake publisher needs (docs/fleet.md). Logs and spans carry the time of the commit that last
-- wrote them, as runs carry updated_at: the publisher finds the rows of already-published slices that arrived or
-- changed since its last pass by that time alone, which zone maps turn into a read of the newest row groups. Rows
-- stored before this version have none, and are published with their slices.
ALTER TABLE log_lines ADD COLUMN committed_at TIMESTAMP;
ALTER TABLE spans ADD COLUMN committed_at TIMESTAMP;

-- The files the publisher wrote, in the lake's layout. A pass records its files as 'writing' before it writes them
-- and 'published' once they are complete and renamed, in one transaction with the pass's watermark (lake_state);
-- 'uploaded' once the object store holds them and the local copy is gone. A 'writing' row found at start is a pass
-- that did not finish: its files are removed and the pass is done again.
CREATE TABLE lake_files (
    tbl          VARCHAR   NOT NULL,   -- runs | logs | spans
    script       VARCHAR   NOT NULL,
    slice_start  TIMESTAMP NOT NULL,
    seq          INTEGER   NOT NULL,   -- 1 for a slice's first file, then one more for each file of its late rows
    node         VARCHAR   NOT NULL,
    path         VARCHAR   NOT NULL,   -- relative to the lake, '/' separated: also the object key under the prefix
    rows         BIGINT    NOT NULL,
    bytes        BIGINT,
    state        VARCHAR   NOT NULL,   -- writing | published | uploaded
    published_at TIMESTAMP NOT NULL,
    uploaded_at  TIMESTAMP
);

-- The publisher's watermark, one row: slices that end at or before cutoff are published, with every row committed
-- at or before committed_through.
CREATE TABLE lake_state (
    cutoff            TIMESTAMP NOT NULL,
    committed_through TIMESTAMP NOT NULL,
    passes            BIGINT    NOT NULL
);
