-- 0003: reserved for the watcher's migration (branch issue8, 0003_watch.sql),
-- developed at the same time as 0004. This placeholder keeps the numbers
-- contiguous on a branch without it; when both are merged, this file goes
-- and 0003_watch.sql takes its place.
SELECT 1;
