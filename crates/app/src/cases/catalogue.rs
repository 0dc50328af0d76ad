//! The intervention catalogue shipped with halve (`catalogue/interventions.toml`), embedded in
//! the binary and read once.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use halve_domain::case::Catalogue;
use halve_measure::Spec;

use crate::AppError;

/// The text of the shipped catalogue.
pub const SHIPPED_TEXT: &str = include_str!("../../../../catalogue/interventions.toml");

/// The shipped catalogue, parsed at first use. It is checked by this crate's tests, so a
/// failure here is a broken build, not bad input.
pub fn shipped_catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        Catalogue::from_toml(SHIPPED_TEXT).expect("the shipped intervention catalogue is valid")
    })
}

/// Refuses a catalogue that names an indicator `spec` does not have.
pub fn check_against(catalogue: &Catalogue, spec: &Spec) -> Result<(), AppError> {
    let known: BTreeSet<&str> = spec.indicators.iter().map(|i| i.name.as_str()).collect();
    let unknown = catalogue.unknown_indicators(&known);
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(format!(
            "รายการความช่วยเหลืออ้างตัวชี้วัดที่ไม่มีใน {id}: {list} \
             (the intervention catalogue names indicators {id} does not have: {list})",
            id = spec.id,
            list = unknown.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::shipped_spec;
    use halve_domain::case::Strategy;

    fn tpmap() -> Spec {
        Spec::from_toml_str(shipped_spec("tpmap-5").unwrap(), "tpmap-5.toml").unwrap()
    }

    #[test]
    fn every_indicator_named_exists_in_tpmap_5() {
        check_against(shipped_catalogue(), &tpmap()).unwrap();
    }

    #[test]
    fn every_tpmap_indicator_and_every_strategy_has_help() {
        let c = shipped_catalogue();
        for ind in &tpmap().indicators {
            assert!(
                c.interventions
                    .iter()
                    .any(|i| i.indicators.contains(&ind.name)),
                "no intervention solves {}",
                ind.name
            );
        }
        for s in Strategy::ALL {
            assert!(
                c.interventions.iter().any(|i| i.strategy == *s),
                "no intervention serves {s}"
            );
        }
        for code in [
            "housing_repair",
            "job_training",
            "community_enterprise_place",
            "welfare_enrolment",
            "bedridden_care",
            "health_tourism_job",
        ] {
            assert!(c.get(code).is_some(), "{code} is missing");
        }
    }

    #[test]
    fn a_catalogue_naming_an_unknown_indicator_is_refused() {
        let text = "[[intervention]]\ncode = \"x\"\nname_th = \"ก\"\nname_en = \"x\"\n\
                    strategy = \"1\"\nindicators = [\"bmn99_nothing\"]\npartner_kind = \"bank\"\n";
        let c = Catalogue::from_toml(text).unwrap();
        let e = check_against(&c, &tpmap()).unwrap_err().to_string();
        assert!(e.contains("bmn99_nothing"), "{e}");
    }
}
