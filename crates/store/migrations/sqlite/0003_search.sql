-- Directory search at scale (SQLite). Pairs with ../postgres/0003_search.sql.
--
-- Name and city fragments are matched anywhere in the folded copies `name_search` and
-- `city_search` (lower case, accents dropped, computed by the store). A `LIKE '%…%'` cannot use a
-- B-tree and scans the table (about 20 ms for 100,000 structures, measured), so the folded copies are
-- indexed by an FTS5 table with the trigram tokenizer: a fragment of 3 characters or more is a
-- phrase query over its trigrams, which matches exactly the rows that contain it (0.1 ms on the
-- same directory). The table holds no text of its own (external content: `structures`); the
-- triggers keep it in step. Fragments shorter than 3 characters still scan (trigrams cannot
-- find them).
CREATE VIRTUAL TABLE structures_text USING fts5 (
    name_search,
    city_search,
    content = 'structures',
    content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO structures_text (structures_text) VALUES ('rebuild');

CREATE TRIGGER structures_text_insert AFTER INSERT ON structures BEGIN
    INSERT INTO structures_text (rowid, name_search, city_search)
        VALUES (new.id, new.name_search, new.city_search);
END;
CREATE TRIGGER structures_text_delete AFTER DELETE ON structures BEGIN
    INSERT INTO structures_text (structures_text, rowid, name_search, city_search)
        VALUES ('delete', old.id, old.name_search, old.city_search);
END;
CREATE TRIGGER structures_text_update AFTER UPDATE OF name_search, city_search ON structures BEGIN
    INSERT INTO structures_text (structures_text, rowid, name_search, city_search)
        VALUES ('delete', old.id, old.name_search, old.city_search);
    INSERT INTO structures_text (rowid, name_search, city_search)
        VALUES (new.id, new.name_search, new.city_search);
END;

-- Exact and prefix searches by identifier (SIRET…) whatever its kind; the unique key starts with
-- the kind, so it cannot serve them. Prefixes are GLOB ranges on this BINARY-collated index.
CREATE INDEX structures_identifier ON structures (identifier);
-- Results come ordered by name: an unfiltered page walks this index instead of sorting.
CREATE INDEX structures_company_name ON structures (company_name, id);
