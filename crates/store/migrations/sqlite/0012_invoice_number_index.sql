-- A search by invoice number on either side (spec §4.3 `numeroFacture`) reads one index entry instead
-- of every invoice of the structure (1,000,000 invoices: 280 ms on PostgreSQL, which cannot skip the
-- year of invoices_supplier_year_number_key). Kept in step with ../postgres/0012_invoice_number_index.sql.
CREATE INDEX invoices_recipient_number ON invoices (recipient_id, number);
CREATE INDEX invoices_supplier_number ON invoices (supplier_id, number);
