-- Name search at provincial scale. A name prefix is a range of the name in bytewise order
-- (`{{C}}` is PostgreSQL's "C" collation; SQLite compares bytewise already). With the person
-- code after the name, the index also gives the order results are listed in, so a search
-- reads its first page of matches and stops, whether the name is common or nobody has it.
CREATE INDEX person_first_name ON person (first_name{{C}}, person_code{{C}});
CREATE INDEX person_last_name ON person (last_name{{C}}, person_code{{C}});
