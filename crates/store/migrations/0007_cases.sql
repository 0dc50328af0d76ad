-- Case management: partners, cases, needs, plan items, referrals, visits and case alerts.
-- Portable SQL run by both SQLite and PostgreSQL; `{{id}}` is the auto-assigned integer key.
-- Days are Common Era 'YYYY-MM-DD' text, as in the registry; instants (a referral sent,
-- acknowledged, closed; an alert raised) are Unix seconds, so a deadline is an integer
-- comparison on both databases. Codes (states, reasons, kinds) are the domain's English codes.

-- The directory of partner agencies. A partner is never deleted (its referrals name it): it
-- is made inactive.
CREATE TABLE partner (
    code TEXT PRIMARY KEY,
    name_th TEXT NOT NULL,
    name_en TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- Days the partner has to acknowledge a referral.
    ack_days BIGINT NOT NULL,
    active BOOLEAN NOT NULL,
    CHECK (ack_days >= 0)
);

-- A household's case. A household may have several over time, but at most one active (open
-- or in progress): the partial unique index below makes a second one impossible even when
-- two workers open one at the same moment.
CREATE TABLE case_file (
    id {{id}},
    house_code TEXT NOT NULL REFERENCES household (house_code),
    -- The username of the worker responsible for it.
    worker TEXT NOT NULL,
    state TEXT NOT NULL,
    close_reason TEXT,
    opened_on TEXT NOT NULL,
    -- The day it graduated or closed; empty while active.
    ended_on TEXT,
    CHECK (state IN ('open', 'in_progress', 'graduated', 'closed')),
    CHECK ((state = 'closed') = (close_reason IS NOT NULL))
);
CREATE UNIQUE INDEX case_file_one_active ON case_file (house_code)
    WHERE state IN ('open', 'in_progress');
CREATE INDEX case_file_household ON case_file (house_code);
CREATE INDEX case_file_worker ON case_file (worker, state);

-- What the household needs: an indicator it is deprived in or a member's vulnerability
-- (`flag:bedridden`), suggested by halve or added by the worker, confirmed by the worker.
CREATE TABLE case_need (
    case_id BIGINT NOT NULL REFERENCES case_file (id),
    code TEXT NOT NULL,
    source TEXT NOT NULL,
    confirmed BOOLEAN NOT NULL,
    PRIMARY KEY (case_id, code)
);

-- One intervention of a case's plan (a type of the catalogue), given by a partner.
CREATE TABLE plan_item (
    id {{id}},
    case_id BIGINT NOT NULL REFERENCES case_file (id),
    intervention TEXT NOT NULL,
    partner TEXT REFERENCES partner (code),
    status TEXT NOT NULL,
    start_on TEXT,
    end_on TEXT,
    cost_satang BIGINT NOT NULL,
    funding TEXT,
    note TEXT NOT NULL,
    CHECK (cost_satang >= 0)
);
CREATE INDEX plan_item_case ON plan_item (case_id);

-- A referral to a partner, closed-loop: sent, acknowledged by a deadline, done or declined
-- with an outcome (or withdrawn by the worker).
CREATE TABLE referral (
    id {{id}},
    case_id BIGINT NOT NULL REFERENCES case_file (id),
    plan_item_id BIGINT REFERENCES plan_item (id),
    partner TEXT NOT NULL REFERENCES partner (code),
    state TEXT NOT NULL,
    sent_by TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    deadline_at BIGINT NOT NULL,
    acknowledged_at BIGINT,
    closed_at BIGINT,
    outcome TEXT,
    note TEXT NOT NULL
);
CREATE INDEX referral_partner ON referral (partner, state, sent_at);
CREATE INDEX referral_case ON referral (case_id);

-- The visit logbook: a dated visit with a note, and the round of the assessment recorded
-- during it, if one was.
CREATE TABLE visit (
    id {{id}},
    case_id BIGINT NOT NULL REFERENCES case_file (id),
    visited_on TEXT NOT NULL,
    worker TEXT NOT NULL,
    note TEXT NOT NULL,
    round_year BIGINT REFERENCES assessment_round (year)
);
CREATE INDEX visit_case ON visit (case_id, visited_on);

-- Something about a case that needs attention (a household that fell back re-opened its
-- case). One alert per case, kind and round, so raising it again changes nothing.
CREATE TABLE case_alert (
    id {{id}},
    case_id BIGINT NOT NULL REFERENCES case_file (id),
    kind TEXT NOT NULL,
    round_year BIGINT NOT NULL,
    raised_at BIGINT NOT NULL,
    resolved_at BIGINT,
    UNIQUE (case_id, kind, round_year)
);
