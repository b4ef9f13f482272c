//! The server-rendered portal: askama pages + htmx, French first, English second.
//!
//! Sessions are an HttpOnly, `SameSite=Lax` cookie holding a random token (only its digest is
//! stored, by the use-case layer), `Secure` when the public base URL is https. Every form carries
//! a CSRF token checked by [`csrf::guard`]. Handlers call [`facteur_app::App`] only; the pages'
//! strings live in [`i18n`], one table per language.
mod account;
mod assets;
mod auth;
mod backend;
mod csrf;
mod ctx;
mod directory;
mod errors;
mod forms;
pub mod i18n;
mod manage;
mod structure;

pub use errors::panic_response;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use facteur_app::links;

use crate::AppState;

/// Routes of the portal, merged into the application router by [`crate::router`].
pub fn router() -> Router<AppState> {
    let activation = format!("{}{{token}}", links::ACTIVATION);
    let reset = format!("{}{{token}}", links::PASSWORD_RESET);
    Router::new()
        .route("/", get(account::home))
        .route("/signup", get(auth::signup_form).post(auth::signup_submit))
        .route("/signup/sent", get(auth::signup_sent))
        .route(&activation, get(auth::activate))
        .route("/activate/resend", post(auth::resend_activation))
        .route("/login", get(auth::login_form).post(auth::login_submit))
        .route("/logout", post(auth::logout))
        .route("/password/forgot", get(auth::forgot_form).post(auth::forgot_submit))
        .route(&reset, get(auth::reset_form))
        .route("/password/reset", post(auth::reset_submit))
        .route("/lang/{code}", get(auth::set_lang))
        .route("/switch", post(account::switch))
        .route("/account", get(account::account))
        .route("/account/attachments", get(account::attachments))
        .route(
            "/account/attach",
            get(account::attach_form).post(account::attach_submit),
        )
        .route("/account/spaces", get(account::my_spaces).post(account::subscribe))
        .route("/manage/requests", get(manage::requests).post(manage::decide_requests))
        .route("/manage/members", get(manage::members))
        .route("/manage/members/action", post(manage::member_action))
        .route("/manage/members/attach", post(manage::attach_user))
        .route("/manage/members/duplicate", post(manage::duplicate))
        .route("/manage/members/services", post(manage::member_services))
        .route("/manage/spaces", get(manage::spaces))
        .route("/manage/spaces/open", post(manage::open_space))
        .route("/manage/spaces/decide", post(manage::decide_subscription))
        .route(
            "/manage/technical",
            get(manage::technical).post(manage::technical_reset),
        )
        .route("/manage/structure", get(structure::page))
        .route("/manage/structure/coordinates", post(structure::coordinates))
        .route("/manage/structure/parameters", post(structure::parameters))
        .route("/manage/structure/services", post(structure::add_service))
        .route("/manage/structure/services/status", post(structure::service_status))
        .route(
            "/manage/structure/service",
            get(structure::service_form).post(structure::service_save),
        )
        .route("/manage/structure/bank", post(structure::add_bank))
        .route("/manage/structure/bank/action", post(structure::bank_action))
        .route("/directory", get(directory::search))
        .route("/directory/suggest", get(directory::suggest))
        .layer(middleware::from_fn(csrf::guard))
        .route("/assets/{*path}", get(assets::serve))
        // Merged into the application router, this answers every unknown path: a branded page,
        // or the API's JSON envelope under `/cpro/` and `/api/`.
        .fallback(errors::not_found)
}
