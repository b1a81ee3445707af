-- Schema 8 -> 9: federated analytics at the hub. The DDL, run before this file, creates dp_release and
-- dp_release_cell (sql/ddl/004_federation.sql); nothing older changes. Runs in the upgrade's one transaction.
SELECT 1;
