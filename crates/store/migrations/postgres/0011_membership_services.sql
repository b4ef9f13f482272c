-- The services a member works for (spec §1.4: a user is attached to a structure and, optionally, to
-- some of its services). A member attached to services sees, of the invoices its structure
-- receives, only those addressed to one of them; a member attached to none sees them all. Set by
-- the structure's managers. Kept column-for-column in step with
-- ../sqlite/0011_membership_services.sql.
CREATE TABLE membership_services (
    membership_id BIGINT NOT NULL REFERENCES memberships (id),
    service_id    BIGINT NOT NULL REFERENCES services (id),
    PRIMARY KEY (membership_id, service_id)
);
CREATE INDEX membership_services_service ON membership_services (service_id);
