//! Area boundaries: GeoJSON geometry per area code, for the choropleth maps.
