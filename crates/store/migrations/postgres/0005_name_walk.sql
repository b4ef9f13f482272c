-- Pairs with ../sqlite/0005_name_walk.sql, which adds a covering index for SQLite's name-ordered
-- walk of common fragments. PostgreSQL chooses between its trigram index and a walk of
-- `structures_company_name` by itself, from its statistics: nothing to add.
SELECT 1;
