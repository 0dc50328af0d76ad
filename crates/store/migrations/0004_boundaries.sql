-- Area boundaries (GeoJSON) for the choropleth maps: one geometry per area code, as imported
-- (a GeoJSON Polygon or MultiPolygon object, stored as text), with the name of the file it came
-- from and when. `parent_code` is the enclosing area's code (NULL for a province), so a map of
-- an area's children is one indexed read. Portable SQL run by both SQLite and PostgreSQL; the
-- import time is UTC `YYYY-MM-DDTHH:MM:SSZ`, like the audit log's.
CREATE TABLE area_boundary (
    area_code TEXT PRIMARY KEY,
    parent_code TEXT,
    geometry TEXT NOT NULL,
    source TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE INDEX area_boundary_parent ON area_boundary (parent_code);
