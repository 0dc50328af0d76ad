-- The registry: villages, households, persons and what is known about them over time.
-- Portable SQL run by both SQLite and PostgreSQL. `{{id}}` is the one dialect difference: an
-- auto-assigned integer primary key. Dates are stored as Common Era 'YYYY-MM-DD' text so both
-- databases sort and compare them the same way; booleans are BOOLEAN (0/1 in SQLite).

CREATE TABLE village (
    code TEXT PRIMARY KEY,
    subdistrict TEXT NOT NULL,
    name_th TEXT NOT NULL,
    name_en TEXT
);
CREATE INDEX village_subdistrict ON village (subdistrict);

CREATE TABLE household (
    house_code TEXT PRIMARY KEY,
    village TEXT NOT NULL REFERENCES village (code),
    address TEXT NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION
);
CREATE INDEX household_village ON household (village);

CREATE TABLE person (
    person_code TEXT PRIMARY KEY,
    house_code TEXT NOT NULL REFERENCES household (house_code),
    citizen_id TEXT UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT,
    relation TEXT NOT NULL,
    education TEXT,
    occupation TEXT,
    income_satang BIGINT,
    disability BOOLEAN NOT NULL,
    chronic_illness BOOLEAN NOT NULL,
    bedridden BOOLEAN NOT NULL
);
CREATE INDEX person_household ON person (house_code);

CREATE TABLE person_flag (
    person_code TEXT NOT NULL REFERENCES person (person_code),
    flag TEXT NOT NULL,
    as_of TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (person_code, flag, as_of)
);

CREATE TABLE welfare_card (
    person_code TEXT NOT NULL REFERENCES person (person_code),
    as_of TEXT NOT NULL,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (person_code, as_of)
);

-- History of who lives where: never updated in place, only added to.
CREATE TABLE membership_event (
    person_code TEXT NOT NULL REFERENCES person (person_code),
    kind TEXT NOT NULL,
    event_date TEXT NOT NULL,
    house_code TEXT NOT NULL REFERENCES household (house_code),
    note TEXT NOT NULL,
    PRIMARY KEY (person_code, kind, event_date)
);
CREATE INDEX membership_event_household ON membership_event (house_code);

CREATE TABLE assessment_round (
    year BIGINT PRIMARY KEY,
    round_date TEXT NOT NULL,
    label TEXT NOT NULL
);

-- One row per household per round; `vals` is a JSON object of indicator values
-- (number, or "NA" for not applicable; an absent key is missing). Keeping the indicators as
-- data, not columns, lets a new measurement spec add one without a migration.
CREATE TABLE assessment (
    round_year BIGINT NOT NULL REFERENCES assessment_round (year),
    house_code TEXT NOT NULL REFERENCES household (house_code),
    assessed_on TEXT NOT NULL,
    members BIGINT NOT NULL,
    vals TEXT NOT NULL,
    PRIMARY KEY (round_year, house_code)
);
CREATE INDEX assessment_household ON assessment (house_code);

CREATE TABLE ecozone_set (
    id {{id}},
    province TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    provisional BOOLEAN NOT NULL,
    source TEXT NOT NULL,
    UNIQUE (province, valid_from)
);

CREATE TABLE ecozone (
    set_id BIGINT NOT NULL REFERENCES ecozone_set (id),
    code TEXT NOT NULL,
    name_th TEXT NOT NULL,
    name_en TEXT NOT NULL,
    PRIMARY KEY (set_id, code)
);

CREATE TABLE ecozone_area (
    set_id BIGINT NOT NULL REFERENCES ecozone_set (id),
    area_code TEXT NOT NULL,
    zone_code TEXT NOT NULL,
    PRIMARY KEY (set_id, area_code)
);

-- Who changed what, when. Imports write one entry per file with its counts.
CREATE TABLE audit_log (
    id {{id}},
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    before_value TEXT,
    after_value TEXT
);
