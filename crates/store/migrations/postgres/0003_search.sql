-- Directory search at scale (PostgreSQL). Pairs with ../sqlite/0003_search.sql.
--
-- Name and city fragments are matched anywhere in the folded copies `name_search` and
-- `city_search` with `LIKE '%…%'`; trigram GIN indexes (pg_trgm) serve those patterns when the
-- fragment has 3 characters or more. pg_trgm ships with PostgreSQL and is a trusted extension
-- (PostgreSQL 13+): a database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX structures_name_trgm ON structures USING gin (name_search gin_trgm_ops);
CREATE INDEX structures_city_trgm ON structures USING gin (city_search gin_trgm_ops);

-- Exact and prefix (`LIKE 'x%'`) searches by identifier and postcode, whatever the database's
-- collation: `text_pattern_ops` compares bytes, which prefixes need.
CREATE INDEX structures_identifier ON structures (identifier text_pattern_ops);
CREATE INDEX structures_postcode_prefix ON structures (postcode text_pattern_ops);
-- Results come ordered by name: an unfiltered page walks this index instead of sorting.
CREATE INDEX structures_company_name ON structures (company_name, id);
