//! Pages from templates: minijinja, with every template and the stylesheet embedded in the
//! binary, HTML-escaped by default.
//!
//! Each page gets the same frame: the words of its language (`tr`), the signed-in user, the
//! session's CSRF token for its forms and the link to the other language.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use minijinja::value::{Serde, Value};
use minijinja::{Environment, UndefinedBehavior, context};

use crate::access::Current;
use crate::error::WebError;
use crate::i18n::Lang;

use crate::embedded::TEMPLATES;

use crate::embedded::STYLESHEET;

pub struct Templates {
    env: Environment<'static>,
    /// The word list of each language as a template value, converted once: it is the largest
    /// part of every page's context.
    words: [Value; 2],
}

impl Templates {
    pub fn new() -> Templates {
        let mut env = Environment::new();
        // A misspelt variable fails the render (and the tests) instead of printing nothing;
        // `{% if x %}` on an absent optional value stays allowed.
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        Templates {
            env,
            words: [
                Value::from(Serde(Lang::Th.words())),
                Value::from(Serde(Lang::En.words())),
            ],
        }
    }

    /// Renders a page in the frame of `lang` and `user`; `path` is the page's own path, for
    /// the language switch.
    pub fn page(
        &self,
        name: &str,
        lang: Lang,
        user: Option<&Current>,
        path: &str,
        page: Value,
    ) -> Result<Html<String>, WebError> {
        let user_value = user.map(|u| {
            context! {
                name => u.display_name.clone(),
                username => u.username.clone(),
                role => u.role.code(),
                role_label => lang.t(&format!("role_{}", u.role.code())),
                sees_records => u.role.sees_records(),
                imports => u.role.imports(),
            }
        });
        let other = match lang {
            Lang::Th => Lang::En,
            Lang::En => Lang::Th,
        };
        let frame = context! {
            tr => self.words[match lang {
                Lang::Th => 0,
                Lang::En => 1,
            }]
            .clone(),
            lang => lang.code(),
            other_lang => other.code(),
            other_lang_label => lang.t("other_language"),
            path => path,
            user => user_value,
            csrf => user.map(|u| u.csrf.clone()).unwrap_or_default(),
        };
        let ctx = context! { ..frame, ..page };
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map(Html)
            .map_err(|e| WebError::Internal(format!("template {name}: {e:#}")))
    }
}

pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLESHEET,
    )
        .into_response()
}
