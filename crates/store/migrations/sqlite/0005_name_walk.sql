-- Paging a common name fragment (SQLite). Pairs with ../postgres/0005_name_walk.sql.
--
-- A fragment found in thousands of names is paged by walking the names in order and testing each
-- row, which stops when the page is full, instead of sorting every match (a table read each:
-- 10-15 ms for a fragment in 10,000 of 100,000 names). The walk reads this index alone: it holds
-- every column a directory search tests, so no table row is read but those of the page (0.2 µs
-- an entry against 3 µs through `structures_company_name`, measured). It also orders unfiltered
-- pages, as the index it replaces did.
CREATE INDEX structures_name_walk ON structures (
    company_name, id, kind, status, moa, country, identifier_kind, name_search, city_search, postcode, identifier
);
DROP INDEX structures_company_name;
