//! Charts and maps on the dashboard and the area pages, on both backends: the trajectory
//! chart and its table carry the target engine's figures, the maps have a tile (linked) per
//! area below with its status, and after boundaries are imported the maps are drawn from them.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use halve_domain::AreaTree;
use halve_measure::Status;
use halve_store::testing::TestDb;
use serde_json::Value;

/// The `<svg id="…">…</svg>` of one chart in a page.
fn svg<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart {id} in the page"));
    let end = body[start..].find("</svg>").unwrap() + start + "</svg>".len();
    &body[start..end]
}

/// The figure (picture and table) of one chart in a page.
fn figure<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body.find(&format!("<svg id=\"{id}\"")).unwrap();
    let end = body[start..].find("</figure>").unwrap() + start;
    &body[start..end]
}

fn status(code: &str) -> Status {
    match code {
        "on_track" => Status::OnTrack,
        "at_risk" => Status::AtRisk,
        "off_track" => Status::OffTrack,
        "no_data" => Status::NoData,
        "nothing_to_reduce" => Status::NothingToReduce,
        other => panic!("unknown status {other}"),
    }
}

fn grouped(v: &Value) -> String {
    halve_domain::text::group_thousands(v.as_u64().unwrap())
}

/// Polls a page until the target panel has finished its first run.
async fn ready_page(b: &mut Browser<'_>, path: &str) -> String {
    for _ in 0..300 {
        let r = b.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if r.body.contains("class=\"status-") || r.body.contains("id=\"ch-trajectory\"") {
            return r.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the target panel never finished");
}

/// `/api/progress?QUERY`: the engine's rows of one area or zone and its children.
async fn progress(b: &mut Browser<'_>, query: &str) -> Value {
    let r = b.get(&format!("/api/progress?{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
    r.json()
}

/// A milestone as the pages write it: whole, or with one decimal (independent of the
/// page's own formatting code, so a wrong rounding there shows).
fn milestone_text(m: f64) -> String {
    if m.fract() == 0.0 {
        halve_domain::text::group_thousands(m as u64)
    } else {
        let s = format!("{m:.1}");
        let (whole, tenth) = s.split_once('.').unwrap();
        format!(
            "{}.{tenth}",
            halve_domain::text::group_thousands(whole.parse().unwrap())
        )
    }
}

/// Checks the trajectory chart of a page against the engine's rows of its area: every
/// round's count is in the chart's table, and the picture names its rounds.
fn check_trajectory(body: &str, rows: &[Value], unit: &str) {
    let picture = svg(body, "ch-trajectory");
    assert!(picture.contains("role=\"img\""));
    assert!(picture.contains("<title id=\"ch-trajectory-title\">"));
    assert!(
        picture.contains("stroke-dasharray=\"8 5\""),
        "dashed target path"
    );
    let fig = figure(body, "ch-trajectory");
    for row in rows {
        let year = row["year"].as_i64().unwrap();
        let count = grouped(&row[unit]["count"]);
        let milestone = milestone_text(row[unit]["outlook"]["milestone"].as_f64().unwrap());
        let expected = format!(
            "<th scope=\"row\">{year}</th><td class=\"num\">{count}</td><td class=\"num\">{milestone}</td>"
        );
        assert!(fig.contains(&expected), "{expected} in {fig}");
        assert!(
            picture.contains(&format!("<title>{year}: {count} (")),
            "round {year} drawn"
        );
    }
}

/// Checks a map against the engine's latest rows of the areas below: one tile per area,
/// linked to its page, titled with its status; areas without a row have no data.
fn check_map(body: &str, id: &str, children: &[(String, String)], rows: &[Value]) {
    let picture = svg(body, id);
    assert_eq!(
        picture.matches("class=\"ch-tile\"").count(),
        children.len(),
        "{id}: one tile per area"
    );
    for (code, name) in children {
        assert!(
            picture.contains(&format!("<a href=\"/areas/{code}\" tabindex=\"-1\">")),
            "{id}: {code} linked"
        );
        let row = rows.iter().find(|r| r["area_code"] == code.as_str());
        let st = row.map_or(Status::NoData, |r| {
            status(r["persons"]["outlook"]["status"].as_str().unwrap())
        });
        let title = format!(
            "data-code=\"{code}\"><title>{name}: {}</title>",
            st.label(halve_measure::Lang::Th)
        );
        assert!(picture.contains(&title), "{title}");
        // The table beside it links the area too.
        let fig = figure(body, id);
        assert!(fig.contains(&format!(
            "<th scope=\"row\"><a href=\"/areas/{code}\">{name}</a></th>"
        )));
    }
}

#[tokio::test]
async fn the_dashboard_and_every_area_level_show_the_trajectory_and_the_map() {
    let tree = AreaTree::shipped();
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut b = Browser::login(&app, "viewer").await;
        let dashboard = ready_page(&mut b, "/").await;
        let province = progress(&mut b, "area=80").await;
        let rows = province["rows"].as_array().unwrap();
        check_trajectory(&dashboard, rows, "persons");

        // Both maps on the dashboard have the province's 23 districts.
        let districts: Vec<(String, String)> = tree
            .children(tree.resolve("80").unwrap())
            .map(|a| (a.code.to_string(), a.name_th.clone()))
            .collect();
        assert_eq!(districts.len(), 23);
        let children = province["children"].as_array().unwrap();
        check_map(&dashboard, "ch-children", &districts, children);
        let zones = svg(&dashboard, "ch-zones");
        assert_eq!(zones.matches("class=\"ch-tile\"").count(), 23);
        assert!(zones.contains("class=\"ch-groups\""), "zone borders");
        assert!(dashboard.contains("ch-tilegrid") && !dashboard.contains("ch-choropleth"));
        // The zone map's table has a row per zone with the zone's latest count.
        let zone_fig = figure(&dashboard, "ch-zones");
        let mut seen = 0;
        for zone in &halve_domain::EcoZoneSet::shipped_nakhon_si_thammarat().zones {
            let r = b.get(&format!("/api/progress?zone={}", zone.code)).await;
            let expected = if r.status == StatusCode::OK {
                seen += 1;
                let last = r.json()["rows"].as_array().unwrap().last().unwrap().clone();
                format!(
                    "<th scope=\"row\">{}</th><td>{} {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                    zone.name_th,
                    halve_web_symbol(&last),
                    status(last["persons"]["outlook"]["status"].as_str().unwrap())
                        .label(halve_measure::Lang::Th),
                    grouped(&last["persons"]["count"]),
                    grouped(&last["persons"]["baseline"]),
                )
            } else {
                // A zone without households in the registry has no figures.
                assert_eq!(r.status, StatusCode::NOT_FOUND);
                format!(
                    "<th scope=\"row\">{}</th><td>? {}</td><td class=\"num\"></td>",
                    zone.name_th,
                    Status::NoData.label(halve_measure::Lang::Th)
                )
            };
            assert!(zone_fig.contains(&expected), "{expected}");
        }
        assert!(seen > 0, "the demo has households in some zone");

        // Households instead of persons, on request.
        let households = b.get("/?unit=households").await.body;
        check_trajectory(&households, rows, "households");
        assert!(households.contains("จำนวนครัวเรือนในกลุ่มเป้าหมาย"));

        // District, subdistrict and village pages: the same panels, the map of the areas below.
        let village = app.inside.village;
        let subdistrict = village.parent().unwrap();
        let district = subdistrict.parent().unwrap();
        let page = b.get(&format!("/areas/{district}")).await.body;
        let p = progress(&mut b, &format!("area={district}")).await;
        check_trajectory(&page, p["rows"].as_array().unwrap(), "persons");
        let subdistricts: Vec<(String, String)> = tree
            .children(district)
            .map(|a| (a.code.to_string(), a.name_th.clone()))
            .collect();
        check_map(
            &page,
            "ch-children",
            &subdistricts,
            p["children"].as_array().unwrap(),
        );

        let page = b.get(&format!("/areas/{subdistrict}")).await.body;
        let p = progress(&mut b, &format!("area={subdistrict}")).await;
        check_trajectory(&page, p["rows"].as_array().unwrap(), "persons");
        let villages: Vec<(String, String)> = app
            .store
            .villages_in(&subdistrict.to_string())
            .await
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v.code.to_string(),
                    format!("หมู่ {} {}", v.code.number() % 100, v.name_th),
                )
            })
            .collect();
        assert!(!villages.is_empty());
        check_map(
            &page,
            "ch-children",
            &villages,
            p["children"].as_array().unwrap(),
        );

        let page = b.get(&format!("/areas/{village}")).await.body;
        let p = progress(&mut b, &format!("area={village}")).await;
        check_trajectory(&page, p["rows"].as_array().unwrap(), "persons");
        assert!(
            !page.contains("id=\"ch-children\""),
            "no map below a village"
        );

        // English words on request.
        let en = b.get(&format!("/areas/{district}?lang=en")).await.body;
        assert!(en.contains("Persons in the target population each round"));
        assert!(en.contains("Target path"));
    }
}

/// The symbol the table shows before a status.
fn halve_web_symbol(row: &Value) -> &'static str {
    match row["persons"]["outlook"]["status"].as_str().unwrap() {
        "on_track" => "✓",
        "at_risk" => "!",
        "off_track" => "✗",
        "no_data" => "?",
        _ => "–",
    }
}

/// Mueang (8001) and Tha Sala (8008) as squares; `extra` appended to the features.
fn boundaries(extra: &str) -> String {
    let square = |lon: f64, lat: f64| {
        let (e, n) = (lon + 0.2, lat + 0.2);
        format!(
            r#"{{"type":"Polygon","coordinates":[[[{lon},{lat}],[{e},{lat}],[{e},{n}],[{lon},{n}],[{lon},{lat}]]]}}"#
        )
    };
    format!(
        r#"{{"type":"FeatureCollection","features":[
{{"type":"Feature","properties":{{"ADM2_PCODE":"TH8001"}},"geometry":{}}},
{{"type":"Feature","properties":{{"ADM2_PCODE":"TH8008"}},"geometry":{}}}{extra}]}}"#,
        square(99.9, 8.3),
        square(99.85, 8.6)
    )
}

#[tokio::test]
async fn after_importing_boundaries_the_maps_are_choropleths() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let mut admin = Browser::login(&app, "admin").await;
        let before = ready_page(&mut admin, "/").await;
        assert!(before.contains("class=\"chart ch-map ch-tilegrid\""));
        let csrf = admin.csrf().await;
        let upload = |csrf: &str, files: &[(&str, &str)]| {
            let (ct, body) = multipart(files);
            Request::post(format!("/import?csrf={csrf}"))
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap()
        };

        // A bad feature refuses the whole file, naming it; nothing is stored.
        let bad = boundaries(
            r#",{"type":"Feature","properties":{"code":"8099"},"geometry":{"type":"Point","coordinates":[99.9,8.4]}}"#,
        );
        let r = admin.send(upload(&csrf, &[("nst.geojson", &bad)])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("features[2].properties.code"), "{}", r.body);
        assert!(r.body.contains("ไม่ได้บันทึกอะไรเลย"));
        assert_eq!(app.store.boundary_count().await.unwrap(), 0);
        // Boundaries and registry files are not mixed in one import.
        let r = admin
            .send(upload(
                &csrf,
                &[
                    ("nst.geojson", &boundaries("")),
                    ("villages.csv", "village_code,name_th\n"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.store.boundary_count().await.unwrap(), 0);

        let r = admin
            .send(upload(&csrf, &[("nst.geojson", &boundaries(""))]))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("nst.geojson") && r.body.contains("ขอบเขตพื้นที่"));
        assert_eq!(app.store.boundary_count().await.unwrap(), 2);

        // Both dashboard maps are now drawn from the boundaries: two areas each, linked; the
        // 21 districts without a boundary are named and still in the tables.
        let after = admin.get("/").await.body;
        assert!(!after.contains("ch-tilegrid"), "no tile grid any more");
        for id in ["ch-zones", "ch-children"] {
            let map = svg(&after, id);
            assert!(map.contains("class=\"chart ch-map ch-choropleth\""));
            assert_eq!(map.matches("class=\"ch-region\"").count(), 2, "{id}");
            assert!(map.contains("<a href=\"/areas/8001\" tabindex=\"-1\">"));
            assert!(map.contains("<a href=\"/areas/8008\" tabindex=\"-1\">"));
            assert!(!map.contains("/areas/8002"));
        }
        assert!(after.contains("ยังไม่มีขอบเขตของพื้นที่ต่อไปนี้"));
        assert!(
            figure(&after, "ch-children").contains("<a href=\"/areas/8002\">"),
            "a district without a boundary is still in the table"
        );
        // A district whose subdistricts have no boundary keeps its tile grid.
        let district = admin.get("/areas/8001").await.body;
        assert!(svg(&district, "ch-children").contains("ch-tilegrid"));
    }
}
