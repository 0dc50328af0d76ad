-- Records that left the registry for a reason of record-keeping, not of life: a household or
-- person merged into another record (a duplicate), or withdrawn as registered in error. The
-- target engine follows every baseline household and person, so it must tell these apart
-- from deaths and moves. One change per record; the record itself stays, with its history.
CREATE TABLE record_change (
    entity TEXT NOT NULL,
    code TEXT NOT NULL,
    change TEXT NOT NULL,
    change_date TEXT NOT NULL,
    into_code TEXT,
    note TEXT NOT NULL,
    PRIMARY KEY (entity, code)
);
