//! Behaviour tests of the portal against the real server (port 0, fresh database per test):
//! error paths of sign-up, activation and login, CSRF, language, and cross-structure refusals.
//! A reqwest client with a cookie store plays the browser; activation links are read from the
//! `.eml` files the server writes to `DATA/outbox/` (no SMTP configured in tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use facteur_web::testing::{TestApp, spawn};
use reqwest::StatusCode;
use reqwest::header::ACCEPT_LANGUAGE;

const PASSWORD: &str = "un mot de passe solide";
const SIRET_A: &str = "73282932000017";
const SIRET_B: &str = "44306184100013";

struct Browser {
    http: reqwest::Client,
    /// Same cookies as `http`, but shows redirects instead of following them.
    raw: reqwest::Client,
    base: String,
}

impl Browser {
    fn new(t: &TestApp) -> Self {
        Self::with_lang(t, "fr-FR,fr;q=0.9")
    }

    fn with_lang(t: &TestApp, lang: &'static str) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(ACCEPT_LANGUAGE, reqwest::header::HeaderValue::from_static(lang));
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .default_headers(headers.clone())
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .unwrap();
        let raw = reqwest::Client::builder()
            .cookie_provider(jar)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            http,
            raw,
            base: t.address.clone(),
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = r.status();
        (status, r.text().await.unwrap())
    }

    /// The CSRF token of the form on `path` (also sets the CSRF cookie).
    async fn csrf(&self, path: &str) -> String {
        let (status, html) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {html}");
        field_value(&html, "csrf").unwrap_or_else(|| panic!("no csrf field on {path}"))
    }

    /// Submits a form of `page` to `action` with its CSRF token.
    async fn post(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let token = self.csrf(page).await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &token));
        let r = self
            .http
            .post(format!("{}{action}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.text().await.unwrap())
    }

    async fn sign_up(&self, email: &str, siret: &str, name: &str) -> (StatusCode, String) {
        self.post(
            "/signup",
            "/signup",
            &[
                ("email", email),
                ("password", PASSWORD),
                ("identifier_kind", "SIRET"),
                ("identifier", siret),
                ("name", name),
            ],
        )
        .await
    }

    async fn log_in(&self, email: &str, password: &str) -> (StatusCode, String) {
        self.post("/login", "/login", &[("email", email), ("password", password)])
            .await
    }
}

/// `value` of the input named `name` (attributes in the order the templates write them).
fn field_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// A page with its CSRF tokens (one per browser) blanked, to compare what two visitors saw.
fn without_csrf(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find("\"x-csrf-token\": \"") {
        let start = at + "\"x-csrf-token\": \"".len();
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        rest = &rest[rest.find('"').unwrap_or(0)..];
    }
    out.push_str(rest);
    out.replace(&field_value(html, "csrf").unwrap_or_default(), "")
}

/// The HTML of the form field `name` (its wrapping `<div class="field">`).
fn field_block<'a>(html: &'a str, name: &str) -> &'a str {
    let input = html
        .find(&format!("id=\"f-{name}\" name=\"{name}\""))
        .unwrap_or_else(|| panic!("no field {name}"));
    let start = html[..input].rfind("<div class=\"field\">").unwrap();
    let end = input + html[input..].find("</div>").unwrap();
    &html[start..end]
}

/// Decodes a quoted-printable or base64 mail body well enough to find a link in it.
fn mail_text(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or(("", &raw));
    let head = head.to_ascii_lowercase();
    if head.contains("content-transfer-encoding: base64") {
        use base64::Engine as _;
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD.decode(compact).unwrap();
        return String::from_utf8(bytes).unwrap();
    }
    if head.contains("quoted-printable") {
        let joined = body.replace("=\n", "");
        let mut out = Vec::new();
        let b = joined.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'='
                && i + 2 < b.len() + 1
                && let Ok(v) =
                    u8::from_str_radix(std::str::from_utf8(&b[i + 1..(i + 3).min(b.len())]).unwrap_or(""), 16)
            {
                out.push(v);
                i += 3;
                continue;
            }
            out.push(b[i]);
            i += 1;
        }
        return String::from_utf8_lossy(&out).into_owned();
    }
    body.to_owned()
}

/// The path of the newest link to `prefix` mailed to `to`, once the server's job worker has
/// written it (mail leaves after the commit, on the job queue).
async fn mailed_path(data_dir: &Path, to: &str, prefix: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(path) = newest_mailed_path(data_dir, to, prefix) {
            return path;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail to {to} with a {prefix} link in {}",
            data_dir.join("outbox").display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn newest_mailed_path(data_dir: &Path, to: &str, prefix: &str) -> Option<String> {
    let outbox = data_dir.join("outbox");
    let mut files: Vec<_> = std::fs::read_dir(&outbox)
        .ok()?
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    for f in files.iter().rev() {
        let raw = std::fs::read_to_string(f).unwrap();
        if !raw
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("to:") && l.contains(to))
        {
            continue;
        }
        let text = mail_text(&raw);
        if let Some(at) = text.find(prefix) {
            let tail = &text[at..];
            let end = tail
                .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
                .unwrap_or(tail.len());
            return Some(tail[..end].to_owned());
        }
    }
    None
}

async fn active_user(t: &TestApp, email: &str, siret: &str, name: &str) -> Browser {
    let b = Browser::new(t);
    let (status, html) = b.sign_up(email, siret, name).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Consultez votre messagerie"), "{html}");
    let link = mailed_path(&t.data_dir, email, facteur_app::links::ACTIVATION).await;
    let (status, html) = b.get(&link).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Compte activé"), "{html}");
    let (status, html) = b.log_in(email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    b
}

async fn pages_render_in_french_by_default_and_in_english_on_request(t: TestApp) {
    let (status, html) = Browser::new(&t).get("/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"fr\">"));
    assert!(html.contains("Aller au contenu"), "skip link");
    let (_, html) = Browser::with_lang(&t, "en-GB,en;q=0.8").get("/login").await;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("Skip to content"));
    // The switch wins over the browser's preference.
    let b = Browser::with_lang(&t, "en-GB");
    let (_, html) = b.get("/lang/fr?next=/signup").await;
    assert!(html.contains("Créer un compte") && html.contains("<html lang=\"fr\">"));
}

async fn assets_are_served_embedded(t: TestApp) {
    let r = reqwest::get(format!("{}/assets/htmx.min.js", t.address)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(r.text().await.unwrap().contains("htmx 2.0.11"));
    let r = reqwest::get(format!("{}/assets/facteur.css", t.address)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        reqwest::get(format!("{}/assets/nope.css", t.address))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

async fn forms_without_the_csrf_token_are_refused(t: TestApp) {
    let b = Browser::new(&t);
    b.csrf("/login").await; // the browser has the cookie…
    let r = b
        .http
        .post(format!("{}/login", t.address))
        .form(&[("email", "x@exemple.fr"), ("password", PASSWORD), ("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN); // …but not the right token in the form
    let r = b
        .http
        .post(format!("{}/signup", t.address))
        .form(&[("email", "x@exemple.fr")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A client without the cookie cannot post either, even with some token.
    let r = reqwest::Client::new()
        .post(format!("{}/login", t.address))
        .form(&[("email", "x@exemple.fr"), ("password", PASSWORD), ("csrf", "abc")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn bad_siret_is_shown_next_to_the_identifier_field(t: TestApp) {
    let b = Browser::new(&t);
    let (status, html) = b
        .sign_up("martin@exemple.fr", "73282932000018", "Menuiserie Martin")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let block = field_block(&html, "identifier");
    assert!(
        block.contains("Ce SIRET n&#39;est pas valide") || block.contains("Ce SIRET n'est pas valide"),
        "{block}"
    );
    assert!(block.contains("aria-invalid=\"true\""), "{block}");
    // The other fields keep what was typed (the password too: it was not what was wrong, and
    // the answer is not stored) and carry no error.
    assert!(field_block(&html, "email").contains("value=\"martin@exemple.fr\""));
    assert!(!field_block(&html, "email").contains("aria-invalid"));
    assert!(field_block(&html, "password").contains(&format!("value=\"{PASSWORD}\"")));
    // In English, the same error is in English.
    let en = Browser::with_lang(&t, "en");
    let (_, html) = en
        .sign_up("martin@exemple.fr", "7328293200001", "Menuiserie Martin")
        .await;
    assert!(
        field_block(&html, "identifier").contains("This SIRET is not valid"),
        "{html}"
    );
    // Nothing was created: the address is still free.
    let (status, _) = b.sign_up("martin@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    assert_eq!(status, StatusCode::OK);
}

async fn several_field_errors_are_shown_at_once(t: TestApp) {
    let (status, html) = Browser::new(&t).sign_up("pas-une-adresse", "", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_block(&html, "email").contains("Saisissez une adresse électronique valide"));
    assert!(field_block(&html, "identifier").contains("Ce champ est obligatoire."));
}

/// Sign-up says nothing about which addresses have accounts: a second sign-up with a registered
/// address gets the very page a new one gets, creates nothing, and the owner is mailed.
async fn a_registered_email_gets_the_same_answer_and_its_owner_a_mail(t: TestApp) {
    let b = Browser::new(&t);
    let (status, first) = b.sign_up("martin@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    assert_eq!(status, StatusCode::OK);
    let (status, second) = b.sign_up("Martin@Exemple.fr", SIRET_B, "Autre société").await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(first, second);
    let link = mailed_path(&t.data_dir, "martin@exemple.fr", facteur_app::links::PASSWORD_FORGOT).await;
    assert_eq!(link, facteur_app::links::PASSWORD_FORGOT);
    // Nothing was created for SIRET_B.
    let query = facteur_app::DirectoryQuery {
        identifier: Some(SIRET_B.to_owned()),
        scope: facteur_app::DirectoryScope::Everything,
        ..Default::default()
    };
    let page = facteur_app::PageRequest::new(1, 10);
    let op = facteur_app::Actor::Operator;
    assert_eq!(t.app.search_directory(Some(&op), &query, page).await.unwrap().total, 0);
}

/// Nor which identifiers have structures: joining an existing one answers like creating one.
async fn an_existing_siret_gets_the_same_answer_as_a_new_one(t: TestApp) {
    let (_, new) = Browser::new(&t)
        .sign_up("a@exemple.fr", SIRET_A, "Menuiserie Martin")
        .await;
    let (status, join) = Browser::new(&t)
        .sign_up("b@exemple.fr", SIRET_A, "Menuiserie Martin")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(without_csrf(&new), without_csrf(&join));
}

async fn activation_link_works_once_then_says_so(t: TestApp) {
    let b = Browser::new(&t);
    b.sign_up("martin@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    // Before activation, login says the account is not active yet.
    let (status, html) = b.log_in("martin@exemple.fr", PASSWORD).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("pas encore activé"), "{html}");
    let link = mailed_path(&t.data_dir, "martin@exemple.fr", facteur_app::links::ACTIVATION).await;
    let (status, html) = b.get(&link).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (status, html) = b.get(&link).await;
    assert_eq!(status, StatusCode::GONE, "{html}");
    assert!(html.contains("Lien d&#39;activation inutilisable") || html.contains("Lien d'activation inutilisable"));
    let (status, html) = b.get(&format!("{}not-a-token", facteur_app::links::ACTIVATION)).await;
    assert!(status.is_client_error(), "{status} {html}");
}

async fn wrong_password_is_refused_and_right_one_opens_home(t: TestApp) {
    let b = active_user(&t, "martin@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    let other = Browser::new(&t);
    let (status, html) = other.log_in("martin@exemple.fr", "mauvais mot de passe").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Adresse électronique ou mot de passe incorrect."));
    // After a failed login the password is what may be wrong: it is not sent back.
    assert!(field_block(&html, "password").contains("value=\"\""), "{html}");
    let (status, html) = other.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("martin@exemple.fr"), "not signed in");
    // The real user's home lists the structure with the main-manager role.
    let (_, html) = b.get("/").await;
    assert!(
        html.contains("Menuiserie Martin") && html.contains("Gestionnaire principal"),
        "{html}"
    );
    // Logout ends the session.
    b.post("/", "/logout", &[]).await;
    let (_, html) = b.get("/account").await;
    assert!(html.contains("Connexion"), "redirected to login: {html}");
}

async fn session_cookie_is_http_only_and_lax(t: TestApp) {
    let b = active_user(&t, "martin@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    let token = b.csrf("/login").await;
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = raw
        .post(format!("{}/login", t.address))
        .header("cookie", format!("facteur_csrf={token}"))
        .form(&[
            ("email", "martin@exemple.fr"),
            ("password", PASSWORD),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("facteur_session="))
        .expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http base URL: {cookie}");
}

async fn manager_pages_refuse_simple_users_and_strangers(t: TestApp) {
    let _manager = active_user(&t, "chef@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    let member = active_user(&t, "agent@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    // Pending member: no manager page.
    let (status, _) = member.get("/manage/requests").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = member
        .post("/account", "/manage/requests", &[("bulk", "approve"), ("ids", "1")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Signed out: sent to the login page.
    let (_, html) = Browser::new(&t).get("/manage/members").await;
    assert!(html.contains("Connexion"), "{html}");
}

async fn a_manager_cannot_decide_another_structures_requests(t: TestApp) {
    let a = active_user(&t, "chef-a@exemple.fr", SIRET_A, "Société A").await;
    let _b = active_user(&t, "chef-b@exemple.fr", SIRET_B, "Société B").await;
    let _joiner = active_user(&t, "candidat@exemple.fr", SIRET_B, "Société B").await;
    // The pending request is B's; A's manager tries to approve it by id.
    let b_id = {
        let actor = t
            .app
            .session_actor(&login_token(&t, "chef-b@exemple.fr").await)
            .await
            .unwrap();
        let mine = t.app.my_memberships(&actor).await.unwrap();
        let pending = t.app.pending_attachments(&actor, mine[0].structure_id).await.unwrap();
        assert_eq!(pending.len(), 1);
        pending[0].id.0.to_string()
    };
    let (status, html) = a
        .post(
            "/manage/requests",
            "/manage/requests",
            &[("one", &format!("approve:{b_id}"))],
        )
        .await;
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
        "{status}: {html}"
    );
    // A cannot make B active by forging the structure cookie either: the switcher refuses it.
    let b_structure = {
        let actor = t
            .app
            .session_actor(&login_token(&t, "chef-b@exemple.fr").await)
            .await
            .unwrap();
        t.app.my_memberships(&actor).await.unwrap()[0]
            .structure_id
            .0
            .to_string()
    };
    let (status, _) = a.post("/", "/switch", &[("structure", &b_structure)]).await;
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
        "{status}"
    );
    let (_, html) = a.get("/manage/requests").await;
    assert!(
        html.contains("Aucune demande en attente."),
        "A sees only its own (empty) list: {html}"
    );
    // Still pending for B.
    let actor = t
        .app
        .session_actor(&login_token(&t, "chef-b@exemple.fr").await)
        .await
        .unwrap();
    let mine = t.app.my_memberships(&actor).await.unwrap();
    assert_eq!(
        t.app
            .pending_attachments(&actor, mine[0].structure_id)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn manager_approves_a_request_and_the_member_sees_it(t: TestApp) {
    let manager = active_user(&t, "chef@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    let member = active_user(&t, "agent@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    let (_, html) = member.get("/").await;
    assert!(html.contains("En attente"), "{html}");
    let (_, html) = manager.get("/manage/requests").await;
    assert!(html.contains("agent@exemple.fr"), "{html}");
    let id = field_value(&html, "ids").expect("a checkbox per request");
    let (status, html) = manager
        .post(
            "/manage/requests",
            "/manage/requests",
            &[("bulk", "approve"), ("ids", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Aucune demande en attente."), "{html}");
    let (_, html) = member.get("/").await;
    assert!(html.contains("Validé"), "{html}");
}

async fn login_token(t: &TestApp, email: &str) -> String {
    t.app.login(email, PASSWORD, "test").await.unwrap().token
}

// --- portal UX: confirmations, secrets shown once, error pages, words --------------------------

/// Whether `html` shows `text` (askama escapes apostrophes as `&#39;`).
fn shows(html: &str, text: &str) -> bool {
    html.contains(text) || html.contains(&text.replace('\'', "&#39;"))
}

/// The first `<form>` of `html` whose action is `action`.
fn form_block<'a>(html: &'a str, action: &str) -> Option<&'a str> {
    let at = html.find(&format!("action=\"{action}\""))?;
    let start = html[..at].rfind("<form")?;
    let end = at + html[at..].find("</form>")?;
    Some(&html[start..end])
}

impl Browser {
    /// POST without following the redirect (to read `Location` and `Set-Cookie`).
    async fn post_raw(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf(page).await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &token));
        self.raw
            .post(format!("{}{action}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap()
    }
}

/// A manager, plus a second user whose attachment request the manager approved.
async fn manager_and_member(t: &TestApp) -> (Browser, Browser) {
    let manager = active_user(t, "chef@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    let member = active_user(t, "agent@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    let (_, html) = manager.get("/manage/requests").await;
    let id = field_value(&html, "ids").expect("a pending request");
    let (status, html) = manager
        .post(
            "/manage/requests",
            "/manage/requests",
            &[("bulk", "approve"), ("ids", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    (manager, member)
}

/// The user id behind `email` in the manager's member list.
async fn member_id(manager: &Browser, email: &str) -> String {
    let (_, html) = manager.get("/manage/members").await;
    let at = html.find(email).unwrap_or_else(|| panic!("{email} not listed: {html}"));
    field_value(&html[at..], "user").unwrap_or_else(|| panic!("no action form for {email}"))
}

/// A public structure in the directory (SIRET_B), with one service besides the default one.
async fn import_valbonne(t: &TestApp) {
    let csv = "type_identifiant,identifiant,raison_sociale,code_postal,ville,code_service_obligatoire,engagement_obligatoire,code_service,libelle_service\n\
               SIRET,44306184100013,Commune de Valbonne,45000,Orléans,1,0,VOIRIE,Service de la voirie\n";
    t.app
        .import_directory_csv(&facteur_app::Actor::Operator, csv.as_bytes(), &|_, _| {})
        .await
        .unwrap();
}

async fn pages_carry_no_inline_script_handler_or_style(t: TestApp) {
    let (manager, _member) = manager_and_member(&t).await;
    import_valbonne(&t).await;
    let anon = Browser::new(&t);
    let mut pages = Vec::new();
    for p in [
        "/login",
        "/signup",
        "/password/forgot",
        "/directory?q=Valbonne",
        "/directory/suggest?q=Valb",
    ] {
        pages.push((p, anon.get(p).await.1));
    }
    for p in [
        "/",
        "/account",
        "/account/attach",
        "/account/spaces",
        "/manage/requests",
        "/manage/members",
        "/manage/spaces",
        "/manage/technical",
    ] {
        pages.push((p, manager.get(p).await.1));
    }
    assert!(
        pages[4].1.contains("Commune de Valbonne"),
        "a suggestion to pick: {}",
        pages[4].1
    );
    for (p, html) in &pages {
        let lower = html.to_ascii_lowercase();
        assert!(!lower.contains(" style="), "{p}: inline style");
        assert!(
            !lower.contains(" onclick=") && !lower.contains(" oninput="),
            "{p}: inline handler"
        );
        for (i, _) in lower.match_indices("<script") {
            let tag = &lower[i..i + lower[i..].find('>').unwrap()];
            assert!(tag.contains(" src="), "{p}: inline script {tag}");
        }
    }
    let (_, login) = &pages[0];
    assert!(login.contains(r#"<meta name="htmx-config" content='{"includeIndicatorStyles":false}'>"#));
    assert!(login.contains(r#"<script src="/assets/facteur.js" defer></script>"#));
    let r = reqwest::get(format!("{}/assets/facteur.js", t.address)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
}

async fn unknown_pages_get_a_branded_404_and_unknown_api_paths_json(t: TestApp) {
    let (status, html) = Browser::new(&t).get("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        html.contains("<html lang=\"fr\">") && shows(&html, "Cette page n'existe pas."),
        "{html}"
    );
    assert!(html.contains("href=\"/\""), "a way back: {html}");
    let (_, html) = Browser::with_lang(&t, "en").get("/no/such/page").await;
    assert!(html.contains("This page does not exist."), "{html}");
    for path in ["/cpro/nope/v1/rien", "/api/nope"] {
        let r = reqwest::get(format!("{}{path}", t.address)).await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["codeRetour"], 404, "{path}: {body}");
        assert!(body["libelle"].is_string());
    }
    // Known routes are untouched.
    let r = reqwest::get(format!("{}/healthz", t.address)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn technical_secrets_are_shown_once_after_a_redirect(t: TestApp) {
    let manager = active_user(&t, "chef@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    // Creation: the POST answers a redirect carrying the secrets in a short, narrow cookie.
    let r = manager.post_raw("/manage/technical", "/manage/technical", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("facteur_secrets="))
        .expect("secrets cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/manage/technical", "Max-Age=120"] {
        assert!(cookie.contains(attr), "{attr}: {cookie}");
    }
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let r = manager.http.get(format!("{}{to}", t.address)).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    let password = field_value(&html, "secret-password").expect("password shown with a copy button");
    let login = field_value(&html, "secret-login").unwrap();
    let sid = t
        .app
        .store()
        .find_technical_account_by_login(&login)
        .await
        .unwrap()
        .unwrap()
        .structure_id;
    assert!(t.app.authenticate_technical(&login, &password, sid).await.is_ok());
    assert!(shows(&html, "Notez ces secrets maintenant"), "{html}");
    // Reload: nothing new is created, the secrets are not shown again, and the page says why.
    let (_, again) = manager.get(&to).await;
    assert!(!again.contains(&password), "shown twice");
    assert!(shows(&again, "Les secrets ont déjà été affichés"), "{again}");
    assert!(
        t.app.authenticate_technical(&login, &password, sid).await.is_ok(),
        "reload reset nothing"
    );
    // Reset asks for confirmation first; nothing changes until it is confirmed.
    let (status, html) = manager
        .post("/manage/technical", "/manage/technical", &[("action", "reset")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(shows(&html, "Réinitialiser les secrets ?"), "{html}");
    assert!(
        form_block(&html, "/manage/technical")
            .unwrap()
            .contains("name=\"confirm\"")
    );
    assert!(t.app.authenticate_technical(&login, &password, sid).await.is_ok());
    let (status, html) = manager
        .post(
            "/manage/technical",
            "/manage/technical",
            &[("action", "reset"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let new_password = field_value(&html, "secret-password").expect("new secrets");
    assert_ne!(new_password, password);
    assert!(t.app.authenticate_technical(&login, &password, sid).await.is_err());
}

async fn destructive_member_actions_ask_for_confirmation(t: TestApp) {
    let (manager, member) = manager_and_member(&t).await;
    let id = member_id(&manager, "agent@exemple.fr").await;
    // Refusing a space subscription asks first.
    let (_, html) = manager
        .post(
            "/manage/spaces",
            "/manage/spaces/open",
            &[("space", "FACTURES_TRAVAUX")],
        )
        .await;
    assert!(html.contains("Modification enregistrée."), "{html}");
    let (_, html) = member
        .post(
            "/account/spaces",
            "/account/spaces",
            &[("space", "FACTURES_TRAVAUX"), ("mode", "consultation")],
        )
        .await;
    assert!(html.contains("Modification enregistrée."), "{html}");
    let (_, html) = manager.get("/manage/spaces").await;
    let sid = field_value(&html, "id").expect("a pending subscription");
    let (status, html) = manager
        .post(
            "/manage/spaces",
            "/manage/spaces/decide",
            &[("id", &sid), ("decision", "refuse")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let form = form_block(&html, "/manage/spaces/decide").expect("confirmation form");
    assert!(form.contains("name=\"confirm\""), "{html}");
    assert!(html.contains("Factures de travaux"), "names the space: {html}");
    let (_, html) = manager.get("/manage/spaces").await;
    assert!(html.contains("agent@exemple.fr"), "still pending: {html}");
    for action in ["detach", "transfer"] {
        let (status, html) = manager
            .post(
                "/manage/members",
                "/manage/members/action",
                &[("user", &id), ("action", action)],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        let form = form_block(&html, "/manage/members/action").expect("confirmation form");
        assert!(
            form.contains("name=\"confirm\"") && html.contains("agent@exemple.fr"),
            "{html}"
        );
        assert!(html.contains("href=\"/manage/members\""), "a way to cancel");
    }
    let (_, html) = member.get("/").await;
    assert!(
        html.contains("Validé") && html.contains("Utilisateur"),
        "unchanged: {html}"
    );
    let (status, _) = manager
        .post(
            "/manage/members",
            "/manage/members/action",
            &[("user", &id), ("action", "detach"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, html) = member.get("/").await;
    assert!(html.contains("Détaché"), "{html}");
    // Refusing an attachment request is confirmed too.
    let _late = active_user(&t, "tard@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    let (_, html) = manager.get("/manage/requests").await;
    let rid = field_value(&html, "ids").unwrap();
    let (status, html) = manager
        .post(
            "/manage/requests",
            "/manage/requests",
            &[("one", &format!("refuse:{rid}"))],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        form_block(&html, "/manage/requests")
            .unwrap()
            .contains("name=\"confirm\""),
        "{html}"
    );
    let (_, html) = manager.get("/manage/requests").await;
    assert!(html.contains("tard@exemple.fr"), "still pending: {html}");
}

async fn duplicate_rights_has_sensible_defaults_and_field_errors(t: TestApp) {
    let manager = active_user(&t, "chef@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    // Alone in the structure: nothing to duplicate, no form.
    let (_, html) = manager.get("/manage/members").await;
    assert!(form_block(&html, "/manage/members/duplicate").is_none(), "{html}");
    let member = active_user(&t, "agent@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    drop(member);
    let (_, html) = manager.get("/manage/requests").await;
    let rid = field_value(&html, "ids").unwrap();
    manager
        .post(
            "/manage/requests",
            "/manage/requests",
            &[("bulk", "approve"), ("ids", &rid)],
        )
        .await;
    let (_, html) = manager.get("/manage/members").await;
    let form = form_block(&html, "/manage/members/duplicate").expect("form with two users");
    let selected = |name: &str| {
        let at = form.find(&format!("name=\"{name}\"")).unwrap();
        let sel = &form[at..at + form[at..].find("</select>").unwrap()];
        let opt = sel
            .find(" selected")
            .map(|i| &sel[sel[..i].rfind("<option").unwrap()..i]);
        opt.unwrap_or_else(|| panic!("nothing selected in {name}: {sel}"))
            .to_owned()
    };
    assert_ne!(selected("from"), selected("to"), "{form}");
    // The same user on both sides: 422 with the error on the "to" field, named in the summary.
    let id = member_id(&manager, "agent@exemple.fr").await;
    let (status, html) = manager
        .post(
            "/manage/members",
            "/manage/members/duplicate",
            &[("from", &id), ("to", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("id=\"f-to-error\""), "{html}");
    assert!(html.contains("href=\"#f-to\""), "summary links the field: {html}");
    // A missing choice is a field error too, not a bare 422 page.
    let (status, html) = manager
        .post("/manage/members", "/manage/members/duplicate", &[("from", &id)])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"f-to-error\""), "{html}");
}

/// The member list's row of `email`.
fn member_row<'a>(html: &'a str, email: &str) -> &'a str {
    let at = html
        .find(&format!("<td>{email}</td>"))
        .unwrap_or_else(|| panic!("{email} not listed: {html}"));
    &html[at..at + html[at..].find("</tr>").unwrap()]
}

async fn managers_attach_members_to_services(t: TestApp) {
    let (manager, member) = manager_and_member(&t).await;
    let id = member_id(&manager, "agent@exemple.fr").await;
    let (_, html) = manager.get("/manage/members").await;
    let agent = |html: &str| member_row(html, "agent@exemple.fr").to_owned();
    assert!(
        agent(&html).contains("Tous les services"),
        "attached to none: all of them"
    );
    let form = form_block(&html, "/manage/members/services").expect("the services form");
    let service = field_value(form, "services").expect("a service to tick");
    assert!(!form.contains(" checked"), "{form}");

    let (status, html) = manager
        .post(
            "/manage/members",
            "/manage/members/services",
            &[("user", &id), ("services", &service)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(agent(&html).contains("Service des factures publiques"), "{html}");
    let form = form_block(&html, "/manage/members/services").unwrap();
    assert!(
        form.contains(&format!("value=\"{service}\" checked")),
        "the chosen member's services: {form}"
    );

    // A service that is not the structure's: the field's error, named in the summary; no change.
    let (status, html) = manager
        .post(
            "/manage/members",
            "/manage/members/services",
            &[("user", &id), ("services", "999999")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("id=\"f-services-error\""), "{html}");
    assert!(html.contains("href=\"#f-services\""), "{html}");
    assert!(
        agent(&html).contains("Service des factures publiques"),
        "unchanged: {html}"
    );
    // A member who is not a manager cannot.
    let (status, _) = member.post("/", "/manage/members/services", &[("user", &id)]).await;
    assert_ne!(status, StatusCode::OK);
    // Ticking nothing: all services again.
    let (status, html) = manager
        .post("/manage/members", "/manage/members/services", &[("user", &id)])
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(agent(&html).contains("Tous les services"), "{html}");
}

async fn error_summary_names_what_is_wrong_and_takes_focus(t: TestApp) {
    let (status, html) = Browser::new(&t).sign_up("pas-une-adresse", "", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let at = html.find("id=\"error-summary\"").expect("summary");
    let tag = &html[html[..at].rfind('<').unwrap()..at + html[at..].find('>').unwrap()];
    assert!(tag.contains("tabindex=\"-1\"") && tag.contains("autofocus"), "{tag}");
    let summary = &html[at..at + html[at..].find("</div>").unwrap()];
    assert!(
        summary.contains("href=\"#f-email\"") && summary.contains("href=\"#f-identifier\""),
        "{summary}"
    );
    assert!(
        summary.contains("Saisissez une adresse électronique valide"),
        "{summary}"
    );
    // Each message says which field it is about ("Ce champ est obligatoire." alone does not).
    assert!(
        summary.contains("Identifiant de la structure : Ce champ est obligatoire."),
        "{summary}"
    );
    // The password was fine: it is kept (the answer is not stored).
    assert!(!field_block(&html, "password").contains("value=\"\""), "password kept");
}

async fn signup_shows_form_level_errors(t: TestApp) {
    let b = Browser::new(&t);
    // No company name: said on the name field, in words (always asked, so that the answer
    // does not tell whether the SIRET is known).
    let (status, html) = b.sign_up("martin@exemple.fr", SIRET_A, "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(shows(field_block(&html, "name"), "Ce champ est obligatoire"), "{html}");
    // Too many attempts: a form-level message, not just "an error occurred".
    let mut last = String::new();
    for _ in 0..25 {
        last = b.sign_up("martin@exemple.fr", SIRET_A, "Menuiserie Martin").await.1;
    }
    let at = last.find("id=\"error-summary\"").expect("summary");
    assert!(last[at..].contains("Trop de tentatives"), "{last}");
}

async fn a_used_reset_link_says_so_when_opened(t: TestApp) {
    let b = active_user(&t, "martin@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    b.post(
        "/password/forgot",
        "/password/forgot",
        &[("email", "martin@exemple.fr")],
    )
    .await;
    let link = mailed_path(&t.data_dir, "martin@exemple.fr", facteur_app::links::PASSWORD_RESET).await;
    let (status, html) = b.get(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"confirm\""), "{html}");
    let token = link.rsplit('/').next().unwrap();
    let new = "un autre mot de passe solide";
    let (status, _) = b
        .post(
            &link,
            "/password/reset",
            &[("token", token), ("password", new), ("confirm", new)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, html) = b.get(&link).await;
    assert_eq!(status, StatusCode::GONE, "{html}");
    assert!(shows(&html, "a expiré ou a déjà servi"), "{html}");
    assert!(!html.contains("name=\"confirm\""), "no form for a dead link: {html}");
}

async fn codes_are_shown_by_their_labels_and_dates_in_the_users_form(t: TestApp) {
    let (_, html) = Browser::new(&t).get("/signup").await;
    assert!(html.contains("<option value=\"UE_HORS_FRANCE\">"), "{html}");
    assert!(!html.contains(">UE_HORS_FRANCE<"), "raw code shown: {html}");
    assert!(html.contains("TVA intracommunautaire"), "{html}");
    // Directory: services by label.
    import_valbonne(&t).await;
    let (_, html) = Browser::new(&t).get("/directory?q=Valbonne").await;
    assert!(html.contains("Service de la voirie"), "{html}");
    assert!(!html.contains("FACTURES_PUBLIQUES"), "{html}");
    // Dates: 31/12/2027 in French, 2027-12-31 in English.
    let manager = active_user(&t, "chef@exemple.fr", SIRET_A, "Menuiserie Martin").await;
    manager.post("/manage/technical", "/manage/technical", &[]).await;
    let (_, html) = manager.get("/manage/technical").await;
    let at = html.find("<dt>Expire le</dt><dd>").expect("expiry") + "<dt>Expire le</dt><dd>".len();
    let d = &html[at..at + 10];
    assert!(
        d.as_bytes()[2] == b'/' && d.as_bytes()[5] == b'/' && d[6..].chars().all(|c| c.is_ascii_digit()),
        "{d}"
    );
}

#[path = "portal/structure.rs"]
mod structure;

facteur_web::testing::scenarios!(spawn => pages_render_in_french_by_default_and_in_english_on_request, assets_are_served_embedded, forms_without_the_csrf_token_are_refused, bad_siret_is_shown_next_to_the_identifier_field, several_field_errors_are_shown_at_once, a_registered_email_gets_the_same_answer_and_its_owner_a_mail, an_existing_siret_gets_the_same_answer_as_a_new_one, activation_link_works_once_then_says_so, wrong_password_is_refused_and_right_one_opens_home, session_cookie_is_http_only_and_lax, manager_pages_refuse_simple_users_and_strangers, a_manager_cannot_decide_another_structures_requests, manager_approves_a_request_and_the_member_sees_it, pages_carry_no_inline_script_handler_or_style, unknown_pages_get_a_branded_404_and_unknown_api_paths_json, technical_secrets_are_shown_once_after_a_redirect, destructive_member_actions_ask_for_confirmation, duplicate_rights_has_sensible_defaults_and_field_errors, managers_attach_members_to_services, error_summary_names_what_is_wrong_and_takes_focus, signup_shows_form_level_errors, a_used_reset_link_says_so_when_opened, codes_are_shown_by_their_labels_and_dates_in_the_users_form);
