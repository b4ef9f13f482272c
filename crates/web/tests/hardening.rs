//! What was exposed to anyone before hardening, each defect reproduced against the real server
//! (port 0, fresh database, SQLite and PostgreSQL): rate limits keyed by client, hostile text,
//! redirects, one structure locking out another, body limits, headers and timeouts, CSRF bound to
//! the session, sign-up enumeration, private files, pagination bounds.
//!
//! Two source addresses are real ones: the whole 127.0.0.0/8 range is loopback on Linux, so a
//! client bound to 127.0.0.2 reaches the server on 127.0.0.1 as another peer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine as _;
use facteur_app::{Actor, TechnicalCredentials};
use facteur_domain::{IdentifierKind, Structure, StructureIdentifier, StructureKind};
use facteur_web::HttpConfig;
use facteur_web::testing::{Backend, TEST_TOKEN_SECRET, TestApp, spawn, spawn_app_on, spawn_with};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const PASSWORD: &str = "un mot de passe solide";

/// A browser-like client from `ip`: cookies kept, redirects not followed (tests read them).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// The hidden `csrf` field of the page at `path`.
async fn csrf(c: &reqwest::Client, t: &TestApp, path: &str, cookie: Option<&str>) -> String {
    let mut req = c.get(format!("{}{path}", t.address));
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    let html = req.send().await.unwrap().text().await.unwrap();
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

/// Posts a portal form from `path`'s page, with its CSRF token.
async fn post_form(c: &reqwest::Client, t: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let token = csrf(c, t, path, None).await;
    let mut form = fields.to_vec();
    form.push(("csrf", &token));
    c.post(format!("{}{path}", t.address)).form(&form).send().await.unwrap()
}

fn sign_up_fields<'a>(email: &'a str, siret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("email", email),
        ("password", PASSWORD),
        ("identifier_kind", "SIRET"),
        ("identifier", siret),
        ("name", "Société de test"),
    ]
}

/// Distinct valid SIRETs (SIREN and SIRET keys found by trying the two check digits).
fn siret(n: u32) -> String {
    let body = format!("{:08}", 10_000_000 + n);
    for x in 0..10 {
        for y in 0..10 {
            let s = format!("{body}{x}0001{y}");
            if StructureIdentifier::parse(IdentifierKind::Siret, &s).is_ok() {
                return s;
            }
        }
    }
    unreachable!("some pair of check digits fits")
}

// ---- 1. rate limits per client ----------------------------------------------------------------

async fn rate_limits_count_each_client_apart(t: TestApp) {
    let (a, b) = (client_from("127.0.0.1"), client_from("127.0.0.2"));
    // 50 failed logins from B (each for another address, so no account limit is reached).
    for i in 0..50 {
        let email = format!("nobody{i}@exemple.fr");
        let r = post_form(
            &b,
            &t,
            "/login",
            &[("email", &email), ("password", "faux mot de passe")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "attempt {i}");
    }
    let r = post_form(&b, &t, "/login", &[("email", "x@exemple.fr"), ("password", "faux")]).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "B is limited");
    let r = post_form(&a, &t, "/login", &[("email", "x@exemple.fr"), ("password", "faux")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "A is not");

    // Sign-ups: 20 per hour per client.
    for i in 0..20 {
        let email = format!("s{i}@exemple.fr");
        let r = post_form(&b, &t, "/signup", &sign_up_fields(&email, &siret(i))).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-up {i}");
    }
    let r = post_form(&b, &t, "/signup", &sign_up_fields("late@exemple.fr", &siret(99))).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = post_form(&a, &t, "/signup", &sign_up_fields("other@exemple.fr", &siret(98))).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// Behind a proxy the operator trusts, its header names the client; without that setting the
/// header is ignored (anyone could pick their own key).
async fn behind_a_proxy(backend: Backend) -> Option<TestApp> {
    let mut http = HttpConfig::new(TEST_TOKEN_SECRET.to_vec());
    http.client_ip_header = Some(facteur_web::HeaderName::from_static("x-forwarded-for"));
    spawn_with(backend, http).await
}

async fn the_trusted_proxy_header_is_opt_in(t: TestApp) {
    let c = client_from("127.0.0.1");
    let login = |client_ip: &'static str| {
        let c = c.clone();
        let t = &t;
        async move {
            let token = csrf(&c, t, "/login", None).await;
            c.post(format!("{}/login", t.address))
                .header("x-forwarded-for", format!("6.6.6.6, {client_ip}"))
                .form(&[("email", "x@exemple.fr"), ("password", "faux"), ("csrf", &token)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for i in 0..50 {
        let email = format!("n{i}@exemple.fr");
        let token = csrf(&c, &t, "/login", None).await;
        let r = c
            .post(format!("{}/login", t.address))
            .header("x-forwarded-for", "203.0.113.1")
            .form(&[("email", email.as_str()), ("password", "faux"), ("csrf", &token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(login("203.0.113.1").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login("203.0.113.2").await, StatusCode::UNPROCESSABLE_ENTITY);

    // The default server ignores the header: the same 51st attempt counts against the peer.
    let t = spawn_app_on(Backend::Sqlite).await;
    for i in 0..50 {
        let email = format!("n{i}@exemple.fr");
        let token = csrf(&c, &t, "/login", None).await;
        c.post(format!("{}/login", t.address))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .form(&[("email", email.as_str()), ("password", "faux"), ("csrf", &token)])
            .send()
            .await
            .unwrap();
    }
    let token = csrf(&c, &t, "/login", None).await;
    let r = c
        .post(format!("{}/login", t.address))
        .header("x-forwarded-for", "198.51.100.200")
        .form(&[("email", "x@exemple.fr"), ("password", "faux"), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

// ---- API fixture ------------------------------------------------------------------------------

struct Api {
    t: TestApp,
    http: reqwest::Client,
    a: TechnicalCredentials,
    b: TechnicalCredentials,
}

fn structure(siret: &str, kind: StructureKind, name: &str) -> Structure {
    let id = StructureIdentifier::parse(IdentifierKind::Siret, siret).unwrap();
    Structure::new(id, kind, name).unwrap()
}

async fn api(backend: Backend) -> Option<Api> {
    let t = spawn(backend).await?;
    let op = Actor::Operator;
    t.app
        .upsert_structure(
            &op,
            structure("21750001600019", StructureKind::Public, "Mairie"),
            vec![],
        )
        .await
        .unwrap();
    let a = t
        .app
        .upsert_structure(&op, structure(&siret(1), StructureKind::Private, "A"), vec![])
        .await
        .unwrap();
    let b = t
        .app
        .upsert_structure(&op, structure(&siret(2), StructureKind::Private, "B"), vec![])
        .await
        .unwrap();
    let a = t.app.create_technical_account(&op, a).await.unwrap();
    let b = t.app.create_technical_account(&op, b).await.unwrap();
    Some(Api {
        t,
        http: reqwest::Client::new(),
        a,
        b,
    })
}

fn account(c: &TechnicalCredentials, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{}:{password}", c.login))
}

impl Api {
    async fn token(&self, c: &TechnicalCredentials) -> String {
        let r = self
            .http
            .post(format!("{}/api/oauth/token", self.t.address))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", c.client_id.as_str()),
                ("client_secret", c.client_secret.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn call(&self, path: &str, token: &str, account: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.t.address))
            .bearer_auth(token)
            .header("cpro-account", account)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

// ---- 2. hostile text --------------------------------------------------------------------------

async fn hostile_text_gets_a_field_error_never_a_server_error(f: Api) {
    let long = "a%".repeat(25_000);
    let t = &f.t;
    let c = client_from("127.0.0.1");
    let get = |path: String| {
        let c = c.clone();
        async move { c.get(path).send().await.unwrap() }
    };
    // Portal directory: a page with the error on the field, no 500.
    for q in [long.as_str(), "%00", "ab%00cd"] {
        let r = get(format!("{}/directory?q={q}", t.address)).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "q={:.20}", q);
        assert!(r.text().await.unwrap().contains("f-q-error"));
        let r = get(format!("{}/directory/suggest?q={q}", t.address)).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    // Token endpoint, anonymous.
    for id in ["a\0b", &"x".repeat(5000)] {
        let r = f
            .http
            .post(format!("{}/api/oauth/token", t.address))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", "s"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    }
    // Login and sign-up forms.
    let r = post_form(&c, t, "/login", &[("email", "a\0b@exemple.fr"), ("password", "x")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = sign_up_fields("nul@exemple.fr", "21750001600019");
    fields[4] = ("name", "Nom\0nul");
    let r = post_form(&c, t, "/signup", &fields).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // API: every text field is bounded, the field is named.
    let token = f.token(&f.a).await;
    let acc = account(&f.a, &f.a.password);
    let huge = "x".repeat(50_000);
    for (path, body, field) in [
        (
            "/cpro/structures/v1/rechercher",
            json!({"structure": {"raisonSocialeStructure": huge}}),
            "structure.raisonSocialeStructure",
        ),
        (
            "/cpro/structures/v1/rechercher",
            json!({"structure": {"adresseVille": "Pa\u{0}ris"}}),
            "structure.adresseVille",
        ),
        (
            "/cpro/transverses/v1/rechercher/destinataire",
            json!({"nomVilleCodePostal": huge}),
            "nomVilleCodePostal",
        ),
        (
            "/cpro/transverses/v1/rechercher/destinataire",
            json!({"identifiant": "\u{0}"}),
            "identifiant",
        ),
    ] {
        let (s, v) = f.call(path, &token, &acc, &body).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        assert_eq!(v["codeRetour"], 10002, "{path}: {v}");
        assert!(v["libelle"].as_str().unwrap().starts_with(field), "{v}");
    }
    // A technical login with a NUL never reaches the database.
    let nul = base64::engine::general_purpose::STANDARD.encode("a\0b:pw");
    let (s, _) = f.call("/cpro/structures/v1/rechercher", &token, &nul, &json!({})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

// ---- 3. redirects -----------------------------------------------------------------------------

async fn redirects_stay_on_this_site(t: TestApp) {
    let c = client_from("127.0.0.1");
    for next in [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0d%0aX:1",
        "/%00",
        "//evil.example",
        "https://evil.example",
    ] {
        let r = c
            .get(format!("{}/lang/en?next={next}", t.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(r.headers()[LOCATION], "/", "{next}");
    }
    let r = c
        .get(format!("{}/lang/en?next=/directory%3Fq%3Dparis", t.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[LOCATION], "/directory?q=paris");
    // The login form carries only a safe destination.
    let html = c
        .get(format!("{}/login?next=/%09/evil.example", t.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("name=\"next\" value=\"/\""), "{html}");
}

// ---- 4. one structure and another's technical account -----------------------------------------

async fn a_structure_can_neither_lock_out_nor_test_another_ones_account(f: Api) {
    let path = "/cpro/structures/v1/rechercher";
    let token_a = f.token(&f.a).await;
    let token_b = f.token(&f.b).await;
    for _ in 0..12 {
        let (s, _) = f.call(path, &token_a, &account(&f.b, "faux"), &json!({})).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (wrong, wrong_body) = f.call(path, &token_a, &account(&f.b, "faux"), &json!({})).await;
    let (right, right_body) = f.call(path, &token_a, &account(&f.b, &f.b.password), &json!({})).await;
    assert_eq!((wrong, wrong_body), (right, right_body), "one answer for both");
    let (s, v) = f.call(path, &token_b, &account(&f.b, &f.b.password), &json!({})).await;
    assert_eq!(s, StatusCode::OK, "B is not locked out: {v}");
}

// ---- 6. body limits ---------------------------------------------------------------------------

/// Sends a raw HTTP/1.1 request and returns the status code of the answer.
async fn raw_status(t: &TestApp, head: &str, body_chunks: &[&[u8]]) -> u16 {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", t.port)).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    for chunk in body_chunks {
        // The server may answer and close before the whole body is sent.
        if s.write_all(chunk).await.is_err() {
            break;
        }
    }
    let mut buf = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let line = String::from_utf8_lossy(&buf[..n]).into_owned();
    line.split_whitespace().nth(1).unwrap_or("0").parse().unwrap()
}

fn chunked(total: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let chunk = vec![b' '; 16 * 1024];
    let mut sent = 0;
    while sent < total {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(&chunk);
        out.extend_from_slice(b"\r\n");
        sent += chunk.len();
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

async fn bodies_are_limited_per_route_and_chunked_ones_answer_413(f: Api) {
    let t = &f.t;
    // Anonymous routes take small bodies, with or without a length.
    let big_form = format!("grant_type=client_credentials&client_id={}", "x".repeat(200 * 1024));
    let r = f
        .http
        .post(format!("{}/api/oauth/token", t.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big_form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let head = format!(
        "POST /api/oauth/token HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        t.port
    );
    assert_eq!(raw_status(t, &head, &[&chunked(200 * 1024)]).await, 413);
    // (with a CSRF cookie, so the guard reads the body rather than refusing at once)
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Cookie: facteur_csrf=abc\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        t.port
    );
    assert_eq!(raw_status(t, &head, &[&chunked(200 * 1024)]).await, 413);

    // The API, authenticated, takes up to 1 MiB of JSON; a chunked body over it is 413, not 400.
    let token = f.token(&f.a).await;
    let head = format!(
        "POST /cpro/structures/v1/rechercher HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {token}\r\ncpro-account: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        t.port,
        account(&f.a, &f.a.password)
    );
    assert_eq!(raw_status(t, &head, &[&chunked(2 * 1024 * 1024)]).await, 413);
    let (s, v) = f
        .call(
            "/cpro/structures/v1/rechercher",
            &token,
            &account(&f.a, &f.a.password),
            &json!({"structure": {}, "pad": vec!["x"; 50_000]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

// ---- 7. headers, timeouts, CSRF ---------------------------------------------------------------

async fn pages_carry_security_headers_and_secrets_are_not_cached(t: TestApp) {
    let c = client_from("127.0.0.1");
    let h: HeaderMap = c
        .get(format!("{}/login", t.address))
        .send()
        .await
        .unwrap()
        .headers()
        .clone();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(h["cache-control"], "no-store");
    let r = c.get(format!("{}/assets/facteur.css", t.address)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("cache-control").is_none_or(|v| v != "no-store"));
}

async fn impatient(backend: Backend) -> Option<TestApp> {
    let mut http = HttpConfig::new(TEST_TOKEN_SECRET.to_vec());
    http.header_read_timeout = Duration::from_secs(1);
    spawn_with(backend, http).await
}

async fn a_client_trickling_its_headers_is_cut_off(t: TestApp) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", t.port)).await.unwrap();
    s.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 256];
    // Keep trickling one header line a second; the server must close within its timeout.
    let closed = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            tokio::select! {
                n = s.read(&mut buf) => return n.map(|n| String::from_utf8_lossy(&buf[..n]).into_owned()),
                () = tokio::time::sleep(Duration::from_millis(300)) => {
                    if s.write_all(b"X-Slow: 1\r\n").await.is_err() {
                        return Ok(String::new());
                    }
                }
            }
        }
    })
    .await;
    let answer = closed
        .expect("the connection is still open after 8 s")
        .unwrap_or_default();
    assert!(!answer.contains(" 200 "), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

async fn csrf_tokens_are_bound_to_the_session_and_other_origins_are_refused(t: TestApp) {
    let demo = facteur_app::demo::seed(&t.app, &t.data_dir).await.unwrap();
    let (u1, u2) = (&demo.users[0], &demo.users[1]);
    let s1 = t.app.login(&u1.email, &u1.password, "test").await.unwrap().token;
    let s2 = t.app.login(&u2.email, &u2.password, "test").await.unwrap().token;
    let c = client_from("127.0.0.1");
    let cookie1 = format!("facteur_session={s1}");
    let cookie2 = format!("facteur_session={s2}");
    let token1 = csrf(&c, &t, "/account", Some(&cookie1)).await;
    let token2 = csrf(&c, &t, "/account", Some(&cookie2)).await;
    assert_ne!(token1, token2);
    let logout = |cookie: String, token: String, origin: Option<&'static str>| {
        let c = c.clone();
        let url = format!("{}/logout", t.address);
        async move {
            let mut req = c.post(url).header("cookie", cookie).form(&[("csrf", token)]);
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            req.send().await.unwrap().status()
        }
    };
    // Session 1's token is worth nothing for session 2.
    assert_eq!(
        logout(cookie2.clone(), token1.clone(), None).await,
        StatusCode::FORBIDDEN
    );
    // The right token from another site is refused too.
    assert_eq!(
        logout(cookie1.clone(), token1.clone(), Some("https://evil.example")).await,
        StatusCode::FORBIDDEN
    );
    t.app.session_actor(&s1).await.unwrap();
    t.app.session_actor(&s2).await.unwrap();
    let own_origin: &'static str = Box::leak(t.address.clone().into_boxed_str());
    assert_eq!(logout(cookie1, token1, Some(own_origin)).await, StatusCode::SEE_OTHER);
    assert!(t.app.session_actor(&s1).await.is_err());
}

// ---- 8. the token endpoint limits failed secrets ----------------------------------------------

async fn failed_client_secrets_are_rate_limited_per_client(f: Api) {
    let attempt = |ip: &'static str, secret: String| {
        let url = format!("{}/api/oauth/token", f.t.address);
        let id = f.a.client_id.clone();
        async move {
            client_from(ip)
                .post(url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", id.as_str()),
                    ("client_secret", secret.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..50 {
        assert_eq!(
            attempt("127.0.0.2", "wrong".into()).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = attempt("127.0.0.2", f.a.client_secret.clone()).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    // Another client, and the owner of the secret, are not locked out.
    let r = attempt("127.0.0.1", f.a.client_secret.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
}

// ---- 9. private files -------------------------------------------------------------------------

#[cfg(unix)]
#[tokio::test]
async fn database_and_outbox_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let t = spawn_app_on(Backend::Sqlite).await;
    let c = client_from("127.0.0.1");
    let r = post_form(&c, &t, "/signup", &sign_up_fields("p@exemple.fr", &siret(7))).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&t.data_dir), 0o700);
    assert_eq!(mode(&t.data_dir.join("facteur.db")), 0o600);
    let outbox = t.data_dir.join("outbox");
    // The mail leaves on the job queue, just after the commit. The mailer writes the file, then
    // makes it owner-only (its folder, inside the private data directory, already is, so no one
    // else can open it meanwhile): wait for both steps, not just for the file to appear.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let written = |dir: &std::path::Path| {
        std::fs::read_dir(dir).is_ok_and(|d| {
            let files: Vec<_> = d.filter_map(Result::ok).map(|e| e.path()).collect();
            !files.is_empty() && files.iter().all(|f| mode(f) == 0o600)
        })
    };
    while !written(&outbox) {
        if std::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        std::fs::read_dir(&outbox).is_ok_and(|mut d| d.next().is_some()),
        "no mail in {}",
        outbox.display()
    );
    assert_eq!(mode(&outbox), 0o700);
    let mails: Vec<_> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(!mails.is_empty());
    for m in mails {
        assert_eq!(mode(&m), 0o600, "{}", m.display());
    }
}

// ---- 10. pagination ---------------------------------------------------------------------------

async fn pagination_is_bounded_and_numbers_may_be_strings(f: Api) {
    let token = f.token(&f.a).await;
    let acc = account(&f.a, &f.a.password);
    let path = "/cpro/transverses/v1/rechercher/destinataire";
    let (_, v) = f
        .call(
            path,
            &token,
            &acc,
            &json!({"parametresRecherche": {"nbResultatsMaximum": 0}}),
        )
        .await;
    assert_eq!(v["codeRetour"], 10002, "{v}");
    assert!(v["libelle"].as_str().unwrap().starts_with("nbResultatsMaximum"), "{v}");
    let (_, v) = f
        .call(
            path,
            &token,
            &acc,
            &json!({"parametresRecherche": {"nbResultatsParPage": -1}}),
        )
        .await;
    assert_eq!(v["codeRetour"], 10002, "{v}");
    let (s, v) = f
        .call(
            path,
            &token,
            &acc,
            &json!({"parametresRecherche": {"pageResultatDemandee": 999, "nbResultatsParPage": "5"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["codeRetour"], 0, "{v}");
    assert_eq!(v["listeDestinataires"], json!([]));
    assert_eq!(v["parametresRetour"]["nbResultatsParPage"], 5);
    assert_eq!(v["parametresRetour"]["total"], 1);
    let (_, v) = f
        .call(
            "/cpro/structures/v1/consulter",
            &token,
            &acc,
            &json!({"idStructureCPP": f.a.structure_id.get().to_string()}),
        )
        .await;
    assert_eq!(v["codeRetour"], 0, "{v}");
}

facteur_web::testing::scenarios!(spawn => rate_limits_count_each_client_apart, csrf_tokens_are_bound_to_the_session_and_other_origins_are_refused, redirects_stay_on_this_site, pages_carry_security_headers_and_secrets_are_not_cached);

facteur_web::testing::scenarios!(api => hostile_text_gets_a_field_error_never_a_server_error, a_structure_can_neither_lock_out_nor_test_another_ones_account, failed_client_secrets_are_rate_limited_per_client, pagination_is_bounded_and_numbers_may_be_strings, bodies_are_limited_per_route_and_chunked_ones_answer_413);
facteur_web::testing::scenarios!(behind_a_proxy => the_trusted_proxy_header_is_opt_in);
facteur_web::testing::scenarios!(impatient => a_client_trickling_its_headers_is_cut_off);
