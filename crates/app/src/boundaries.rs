//! Reading area boundaries from GeoJSON into the store, for the choropleth maps.
