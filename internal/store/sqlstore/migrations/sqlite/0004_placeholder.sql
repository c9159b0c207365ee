-- placeholder for 0004 (another branch); never committed
SELECT 1;
