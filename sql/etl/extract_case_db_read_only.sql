-- First statement of every case-database transaction: GRACE only ever reads the case system.
-- (The connection also opens its transactions READ ONLY; this makes the guarantee explicit.)
SET TRANSACTION READ ONLY
